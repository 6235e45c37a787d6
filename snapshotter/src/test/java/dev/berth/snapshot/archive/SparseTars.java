package dev.berth.snapshot.archive;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Hand-made PAX sparse 1.0 entries (GNU tar's --sparse --format=pax layout). */
final class SparseTars {
    private SparseTars() {
    }

    /** A tar holding {@code name} of {@code realSize} bytes whose only data are {@code chunks} (offset to text). */
    static TestTar sparse10(String name, long realSize, Map<Long, String> chunks) {
        TreeMap<Long, String> sorted = new TreeMap<>(chunks);
        StringBuilder map = new StringBuilder().append(sorted.size() + 1).append('\n');
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<Long, String> c : sorted.entrySet()) {
            map.append(c.getKey()).append('\n').append(c.getValue().length()).append('\n');
            data.writeBytes(c.getValue().getBytes(StandardCharsets.US_ASCII));
        }
        map.append(realSize).append('\n').append(0).append('\n'); // GNU tar ends the map at the real size
        byte[] mapBlock = TestTar.pad(map.toString().getBytes(StandardCharsets.US_ASCII));
        byte[] body = new byte[mapBlock.length + data.size()];
        System.arraycopy(mapBlock, 0, body, 0, mapBlock.length);
        System.arraycopy(data.toByteArray(), 0, body, mapBlock.length, data.size());
        Map<String, byte[]> pax = new LinkedHashMap<>();
        pax.put("GNU.sparse.major", "1".getBytes(StandardCharsets.US_ASCII));
        pax.put("GNU.sparse.minor", "0".getBytes(StandardCharsets.US_ASCII));
        pax.put("GNU.sparse.name", name.getBytes(StandardCharsets.UTF_8));
        pax.put("GNU.sparse.realsize", Long.toString(realSize).getBytes(StandardCharsets.US_ASCII));
        byte[] records = TestTar.paxRecords(pax);
        TestTar t = TestTar.create();
        t.raw(TestTar.header("PaxHeaders/" + name, 'x', 0644, records.length, ""));
        t.raw(TestTar.pad(records));
        t.raw(TestTar.header("GNUSparseFile.0/" + name, '0', 0644, body.length, ""));
        t.raw(TestTar.pad(body));
        return t;
    }
}
