package dev.berth.cli;

import dev.berth.GcResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "gc", description = "Collect garbage now: whatever no image, container, lease or gc.root label keeps")
final class GcCommand implements Callable<Integer> {
    @ParentCommand
    Main main;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        GcResult r = main.berth().gc();
        Output out = main.out(spec);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("leases", r.leases());
        m.put("contentRecords", r.contentRecords());
        m.put("snapshotRecords", r.snapshotRecords());
        m.put("ingestRecords", r.ingestRecords());
        m.put("blobs", r.blobs());
        m.put("snapshots", r.backendSnapshots());
        m.put("abortedIngests", r.abortedIngests());
        m.put("millis", r.duration().toMillis());
        if (out.json()) {
            out.printJson(m);
        } else {
            out.line(String.format("removed %d leases, %d content records, %d snapshot records, %d ingests; "
                            + "freed %d blobs and %d snapshots in %d ms", r.leases(), r.contentRecords(),
                    r.snapshotRecords(), r.ingestRecords(), r.blobs(), r.backendSnapshots(), r.duration().toMillis()));
        }
        return 0;
    }
}
