package dev.berth.cli;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Subscription;
import dev.berth.events.EventExchange;
import dev.berth.events.journal.JournalFollower;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.lang.reflect.RecordComponent;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code berth events}: prints events until interrupted. Every process on the state directory appends its
 * events (and, for the one serving the shims' events socket, the shims') to the event journal
 * ({@code <state>/events.journal}); this follows it, from its end or, with {@code --since}, from the oldest
 * kept event at or after that time. While it runs, its own task runtime may serve the events socket.
 */
@Command(name = "events", aliases = "event", description = "Print events as they happen (until interrupted)")
final class EventsCommand implements Callable<Integer> {

    @ParentCommand
    Main main;
    @Spec
    CommandSpec spec;

    @Option(names = "--all-namespaces", description = "Events of every namespace")
    boolean allNamespaces;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N events")
    int count;

    @Option(names = "--since", paramLabel = "TIME", description = "Start with the journal's events since TIME: an"
            + " instant (2026-01-02T03:04:05Z) or an age (90s, 30m, 24h, 7d)")
    String since;

    @Parameters(paramLabel = "FILTER", description = "Filters, e.g. topic==\"/tasks/exit\"")
    List<String> filters = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Optional<Instant> from = since == null ? Optional.empty() : Optional.of(parseSince(since));
        var berth = main.berth();
        main.ns().tasks().list(); // a live runtime: it may serve the shims' event socket
        String namespace = allNamespaces ? null : main.ns().name();
        var out = spec.commandLine().getOut();
        CountDownLatch done = new CountDownLatch(count > 0 ? count : 1);
        // containerd's filter language, applied by a private exchange the journal feeds
        try (EventExchange local = EventExchange.create();
             Subscription s = local.subscribe(e -> {
                 synchronized (out) {
                     out.println(main.json ? jsonLine(e) : format(e)); // --json: one object a line
                     out.flush();
                 }
                 if (count > 0) {
                     done.countDown();
                 }
             }, filters.toArray(String[]::new));
             JournalFollower f = berth.eventJournal().follow(from, null, e -> {
                 if (namespace == null || namespace.equals(e.namespace())) {
                     local.forward(e);
                 }
             })) {
            done.await();
        }
        return 0;
    }

    static Instant parseSince(String s) {
        try {
            return Instant.parse(s.trim());
        } catch (DateTimeParseException e) {
            return Instant.now().minus(LeasesCommand.parseDuration(s));
        }
    }

    static String jsonLine(Envelope e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", DateTimeFormatter.ISO_INSTANT.format(e.timestamp()));
        m.put("namespace", e.namespace());
        m.put("topic", e.topic());
        m.put("event", fields(e.event()));
        try {
            return Json.MAPPER.writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException("cannot print " + e.topic() + " as JSON: " + ex.getMessage(), ex);
        }
    }

    static String format(Envelope e) {
        String body;
        try {
            body = Json.MAPPER.writeValueAsString(fields(e.event()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            body = String.valueOf(e.event());
        }
        return DateTimeFormatter.ISO_INSTANT.format(e.timestamp()) + " " + e.namespace() + " " + e.topic() + " "
                + body;
    }

    /** The event's fields, with times and other values as their strings. */
    static Map<String, Object> fields(Event event) {
        Map<String, Object> m = new LinkedHashMap<>();
        RecordComponent[] components = event.getClass().getRecordComponents();
        if (components == null) {
            m.put("event", event.toString());
            return m;
        }
        for (RecordComponent c : components) {
            try {
                Object v = c.getAccessor().invoke(event);
                m.put(c.getName(), v == null || v instanceof Number || v instanceof Boolean || v instanceof String
                        || v instanceof Map || v instanceof List ? v : v.toString());
            } catch (ReflectiveOperationException ex) {
                m.put(c.getName(), "?");
            }
        }
        return m;
    }
}
