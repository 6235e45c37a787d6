package dev.berth.api.oci.runtime;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.InvalidArgumentException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class RuntimeSpecJsonTest {
    private static final ObjectMapper TREE = new ObjectMapper();

    /** A config.json touching every modelled field, plus fields from elsewhere at several levels. */
    private static final String FULL = """
            {
              "ociVersion": "1.0.2-dev",
              "process": {
                "terminal": true,
                "consoleSize": {"height": 24, "width": 80},
                "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [10, 4294967295], "username": "u"},
                "args": ["/bin/sh", "-c", "echo hi"],
                "commandLine": "cmd.exe",
                "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
                "cwd": "/work",
                "capabilities": {
                  "bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN"], "inheritable": ["CAP_KILL"],
                  "permitted": ["CAP_CHOWN"], "ambient": ["CAP_NET_RAW"]
                },
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
                "noNewPrivileges": true,
                "apparmorProfile": "docker-default",
                "oomScoreAdj": -500,
                "selinuxLabel": "system_u:system_r:container_t:s0",
                "scheduler": {"policy": "SCHED_OTHER", "nice": 5},
                "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}
              },
              "root": {"path": "rootfs", "readonly": true},
              "hostname": "box",
              "domainname": "example.org",
              "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec"]},
                {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
                 "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                 "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                 "futureMountField": [1, 2, 3]}
              ],
              "hooks": {
                "prestart": [{"path": "/usr/bin/a"}],
                "createRuntime": [{"path": "/usr/bin/b", "args": ["b", "x"], "env": ["K=V"], "timeout": 5}],
                "createContainer": [{"path": "/usr/bin/c"}],
                "startContainer": [{"path": "/usr/bin/d"}],
                "poststart": [{"path": "/usr/bin/e"}],
                "poststop": [{"path": "/usr/bin/f"}]
              },
              "annotations": {"z.last": "1", "a.first": "2"},
              "linux": {
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                "sysctl": {"net.ipv4.ip_forward": "1"},
                "resources": {
                  "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
                  "memory": {"limit": 536870912, "reservation": 1024, "swap": -1, "kernel": 1, "kernelTCP": 2,
                             "swappiness": 60, "disableOOMKiller": true, "useHierarchy": true, "checkBeforeUpdate": true},
                  "cpu": {"shares": 512, "quota": 50000, "burst": 1000, "period": 100000, "realtimeRuntime": 10,
                          "realtimePeriod": 20, "cpus": "0-1", "mems": "0", "idle": 1},
                  "pids": {"limit": 100},
                  "blockIO": {"weight": 500, "leafWeight": 300,
                              "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 100}],
                              "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                              "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                              "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}],
                              "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}]},
                  "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
                  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
                  "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
                  "unified": {"memory.high": "1073741824"}
                },
                "cgroupsPath": "/default/box",
                "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
                "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
                "seccomp": {
                  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
                  "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/l.sock", "listenerMetadata": "m",
                  "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1,
                                "args": [{"index": 0, "value": 18446744073709551615, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]
                },
                "rootfsPropagation": "rslave",
                "maskedPaths": ["/proc/kcore"],
                "readonlyPaths": ["/proc/sys"],
                "mountLabel": "system_u:object_r:container_file_t:s0",
                "intelRdt": {"closID": "c", "l3CacheSchema": "L3:0=ff", "memBwSchema": "MB:0=70", "enableCMT": true, "enableMBM": false},
                "personality": {"domain": "LINUX32", "flags": []},
                "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 2}}
              },
              "windows": {"layerFolders": ["C:\\\\layers"]},
              "vm": {"hypervisor": {"path": "/usr/bin/qemu"}}
            }
            """;

    @Nested
    class RoundTrip {
        @Test
        void everyModelledAndUnknownFieldSurvivesParseAndWrite() throws Exception {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            JsonNode expected = TREE.readTree(FULL);
            // Go's omitempty drops an empty slice the same way: the one field here that cannot come back.
            ((com.fasterxml.jackson.databind.node.ObjectNode) expected.at("/linux/personality")).remove("flags");
            assertThat(TREE.readTree(RuntimeSpecJson.toJson(spec))).isEqualTo(expected);
        }

        @Test
        void unknownFieldsAreKeptAtEachLevel() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            assertThat(spec.unknownFields()).containsOnlyKeys("windows", "vm");
            assertThat(spec.process().unknownFields()).containsOnlyKeys("scheduler", "ioPriority");
            assertThat(spec.process().unknownFields().get("scheduler"))
                    .isEqualTo(Map.of("policy", "SCHED_OTHER", "nice", 5));
            assertThat(spec.linux().unknownFields()).containsOnlyKeys("timeOffsets");
            assertThat(spec.mounts().get(1).unknownFields()).containsEntry("futureMountField", List.of(1, 2, 3));
        }

        @Test
        void modifiedSpecStillCarriesUnknownFields() throws Exception {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            Spec changed = spec.withHostname("other")
                    .withProcess(spec.process().withArgs(List.of("/bin/true")));
            JsonNode written = TREE.readTree(RuntimeSpecJson.toJson(changed));

            assertThat(written.at("/hostname").asText()).isEqualTo("other");
            assertThat(written.at("/process/args/0").asText()).isEqualTo("/bin/true");
            assertThat(written.at("/process/scheduler/nice").asInt()).isEqualTo(5);
            assertThat(written.at("/vm/hypervisor/path").asText()).isEqualTo("/usr/bin/qemu");
        }

        @Test
        void annotationsKeepTheirOrder() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            assertThat(spec.annotations().keySet()).containsExactly("z.last", "a.first");
            assertThat(new String(RuntimeSpecJson.toJson(spec), UTF_8)).contains("{\"z.last\":\"1\",\"a.first\":\"2\"}");
        }

        @Test
        void parsedModelIsImmutable() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            assertThatThrownBy(() -> spec.mounts().clear()).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> spec.unknownFields().put("x", 1))
                    .isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> spec.annotations().put("x", "1"))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Nested
    class FieldNames {
        @Test
        void oddlyCasedOciNamesAreMappedToJavaNames() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));
            LinuxResources res = spec.linux().resources();

            assertThat(res.memory().kernelTcp()).isEqualTo(2L);
            assertThat(res.memory().disableOomKiller()).isTrue();
            assertThat(res.blockIo().weight()).isEqualTo(500);
            assertThat(res.blockIo().throttleReadIopsDevice()).extracting(LinuxBlockIo.ThrottleDevice::rate)
                    .containsExactly(3L);
            assertThat(res.network().classId()).isEqualTo(1048577L);
            assertThat(spec.linux().uidMappings().get(0)).isEqualTo(new IdMapping(0, 1000, 1));
            assertThat(spec.linux().intelRdt().closId()).isEqualTo("c");
            assertThat(spec.linux().intelRdt().enableCmt()).isTrue();
        }

        @Test
        void javaNamesAreWrittenAsOciNames() throws Exception {
            LinuxResources res = LinuxResources.builder()
                    .memory(LinuxMemory.builder().limit(1L).kernelTcp(2L).disableOomKiller(true).build())
                    .blockIo(new LinuxBlockIo(null, null, null, null, null,
                            List.of(new LinuxBlockIo.ThrottleDevice(8, 0, 5)), null))
                    .build();

            JsonNode json = TREE.readTree(RuntimeSpecJson.toJson(res));

            assertThat(json.at("/memory/kernelTCP").asLong()).isEqualTo(2);
            assertThat(json.at("/memory/disableOOMKiller").asBoolean()).isTrue();
            assertThat(json.at("/blockIO/throttleReadIOPSDevice/0/rate").asLong()).isEqualTo(5);
            assertThat(json.toString()).doesNotContain("kernelTcp", "blockIo", "Iops", "unknownFields");
        }
    }

    @Nested
    class Writing {
        @Test
        void nullsAndEmptyCollectionsAreLeftOut() {
            Spec spec = Spec.builder().ociVersion("1.0.2-dev").process(Process.builder()
                    .user(User.of(0, 0)).cwd("/").args(List.of("sh")).build()).build();

            assertThat(new String(RuntimeSpecJson.toJson(spec), UTF_8)).isEqualTo(
                    "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                            + "\"args\":[\"sh\"],\"cwd\":\"/\"}}");
        }

        @Test
        void deviceRuleAllowIsAlwaysWrittenBecauseRuncReadsFalseFromIt() throws Exception {
            LinuxResources res = LinuxResources.builder()
                    .devices(List.of(new LinuxDeviceCgroup(false, null, null, null, "rwm"))).build();

            assertThat(TREE.readTree(RuntimeSpecJson.toJson(res)).at("/devices/0").toString())
                    .isEqualTo("{\"allow\":false,\"access\":\"rwm\"}");
        }

        @Test
        void unlimitedRlimitIsWrittenAsMaxUint64() {
            Process p = Process.builder().user(User.of(0, 0)).cwd("/")
                    .rlimits(List.of(new Rlimit("RLIMIT_CORE", Rlimit.UNLIMITED, Rlimit.UNLIMITED))).build();

            String json = new String(RuntimeSpecJson.toJson(p), UTF_8);

            assertThat(json).contains("\"hard\":18446744073709551615,\"soft\":18446744073709551615");
            assertThat(RuntimeSpecJson.parseProcess(json.getBytes(UTF_8)).rlimits().get(0).hard())
                    .isEqualTo(Rlimit.UNLIMITED);
        }

        @Test
        void prettyJsonParsesToTheSameSpec() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            String pretty = RuntimeSpecJson.toPrettyJson(spec);

            assertThat(pretty).contains("\n");
            assertThat(RuntimeSpecJson.parse(pretty.getBytes(UTF_8))).isEqualTo(spec);
        }
    }

    @Nested
    class Builders {
        @Test
        void toBuilderCopiesEveryFieldIncludingUnknownOnes() {
            Spec spec = RuntimeSpecJson.parse(FULL.getBytes(UTF_8));

            assertThat(spec.toBuilder().build()).isEqualTo(spec);
            assertThat(spec.process().toBuilder().build()).isEqualTo(spec.process());
            assertThat(spec.linux().toBuilder().build()).isEqualTo(spec.linux());
            assertThat(spec.linux().resources().toBuilder().build()).isEqualTo(spec.linux().resources());
        }

        @Test
        void withReplacesOneField() {
            Mount m = new Mount("/a", "bind", "/src", List.of("rbind"));

            Mount ro = m.withOptions(List.of("rbind", "ro"));

            assertThat(ro.destination()).isEqualTo("/a");
            assertThat(ro.options()).containsExactly("rbind", "ro");
            assertThat(m.options()).containsExactly("rbind");
        }
    }

    @Nested
    class Errors {
        @Test
        void malformedJsonNamesThePosition() {
            assertThatThrownBy(() -> RuntimeSpecJson.parse("{\"ociVersion\": }".getBytes(UTF_8)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("invalid OCI runtime spec")
                    .hasMessageContaining("line 1");
        }

        @Test
        void wrongTypeNamesTheField() {
            assertThatThrownBy(() -> RuntimeSpecJson.parse("{\"process\": {\"args\": 5}}".getBytes(UTF_8)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("args");
        }

        @Test
        void negativeUnsignedValueIsRejected() {
            byte[] json = "{\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 18446744073709551616, \"soft\": 1}]}"
                    .getBytes(UTF_8);

            assertThatThrownBy(() -> RuntimeSpecJson.parseProcess(json))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("hard");
        }

        @Test
        void jsonNullIsRejected() {
            assertThatThrownBy(() -> RuntimeSpecJson.parse("null".getBytes(UTF_8)))
                    .isInstanceOf(InvalidArgumentException.class);
        }
    }
}
