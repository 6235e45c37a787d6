package dev.berth.cli;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.Subscription;
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
 * {@code berth events}: prints events until interrupted. Without a daemon there is no central stream:
 * this process sees what its own runtime hears from shims on the state directory's event socket (task
 * exits of containers started by other berth processes, for one) and its own changes.
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

    @Parameters(paramLabel = "FILTER", description = "Filters, e.g. topic==\"/tasks/exit\"")
    List<String> filters = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        var berth = main.berth();
        main.ns().tasks().list(); // serve the shims' event socket
        Events events = allNamespaces ? berth.events() : main.ns().events();
        var out = spec.commandLine().getOut();
        CountDownLatch done = new CountDownLatch(count > 0 ? count : 1);
        try (Subscription s = events.subscribe(e -> {
            synchronized (out) {
                out.println(format(e));
                out.flush();
            }
            if (count > 0) {
                done.countDown();
            }
        }, filters.toArray(String[]::new))) {
            done.await();
        }
        return 0;
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
