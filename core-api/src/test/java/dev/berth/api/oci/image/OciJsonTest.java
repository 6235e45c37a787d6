package dev.berth.api.oci.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OciJsonTest {
    static final String D1 = "sha256:" + "1".repeat(64);
    static final String D2 = "sha256:" + "2".repeat(64);
    static final String D3 = "sha256:" + "3".repeat(64);

    /** Unusual whitespace and key order on purpose: re-serializing would change the digest. */
    static final String DOCKER_MANIFEST = """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
                          "digest": "%s"},
               "layers": [
                  {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2811478,
                   "digest": "%s", "x-layer-extra": 1},
                  {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 5,
                   "digest": "%s", "urls": ["https://example.com/layer"]}
               ],
               "x-vendor": {"price": 2.50, "tags": ["a", null, true], "big": 123456789012345678901234567890}
            }
            """.formatted(D1, D2, D3);

    static final String INDEX = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
             "manifests":[
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%1$s",
               "platform":{"architecture":"arm","os":"linux","variant":"v6"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%2$s",
               "platform":{"architecture":"amd64","os":"linux"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%3$s",
               "platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1",
                           "os.features":["win32k"]}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"%1$s",
               "annotations":{"vnd.docker.reference.type":"attestation-manifest"}}
             ],
             "annotations":{"b":"2","a":"1"}}
            """.formatted(D1, D2, D3);

    static final String DOCKER_CONFIG = """
            {"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"nobody",
              "AttachStdin":false,"ExposedPorts":{"80/tcp":{},"443/tcp":{}},
              "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","NGINX_VERSION=1.25.3"],
              "Cmd":["nginx","-g","daemon off;"],"Image":"sha256:abc","Volumes":null,"WorkingDir":"/srv",
              "Entrypoint":["/docker-entrypoint.sh"],"OnBuild":null,"Labels":{"maintainer":"NGINX"},
              "StopSignal":"SIGQUIT","Healthcheck":{"Test":["CMD","true"],"Interval":30000000000}},
             "container":"3d1b5c3a","container_config":{"Hostname":"3d1b5c3a","Cmd":["/bin/sh"]},
             "created":"2023-11-01T19:37:31.123456789Z","docker_version":"20.10.23",
             "history":[{"created":"2023-10-11T01:20:12.456Z","created_by":"ADD file:abc in / "},
                        {"created":"2023-10-11T01:20:12Z","created_by":"CMD [\\"bash\\"]","empty_layer":true,
                         "x-history":"kept"}],
             "os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s"]},"variant":"v2"}
            """.formatted(D1, D2);

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static String independentSha256(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Nested
    class Manifests {
        @Test
        void parsesDockerSchema2() {
            Manifest m = OciJson.parseManifest(utf8(DOCKER_MANIFEST));
            assertThat(m.schemaVersion()).isEqualTo(2);
            assertThat(m.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(m.config()).isEqualTo(new Descriptor(MediaTypes.DOCKER_CONFIG, Digest.parse(D1), 1469));
            assertThat(m.layers()).extracting(Descriptor::digest).containsExactly(Digest.parse(D2), Digest.parse(D3));
            assertThat(m.layers().get(1).urls()).containsExactly("https://example.com/layer");
            assertThat(m.layers().get(0).size()).isEqualTo(2811478);
            assertThat(m.subject()).isNull();
        }

        @Test
        void keepsRawBytesAndDigestsThemNotReserializedJson() throws Exception {
            byte[] raw = utf8(DOCKER_MANIFEST);
            Manifest m = OciJson.parseManifest(raw);
            assertThat(m.bytes()).isEqualTo(raw);
            assertThat(OciJson.write(m)).isEqualTo(raw);
            Descriptor d = m.descriptor();
            assertThat(d.digest().toString()).isEqualTo(independentSha256(raw));
            assertThat(d.size()).isEqualTo(raw.length);
            assertThat(d.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(m.raw().digest()).isEqualTo(d.digest());
        }

        @Test
        void rawBytesCannotBeChangedFromOutside() {
            byte[] raw = utf8(DOCKER_MANIFEST);
            Manifest m = OciJson.parseManifest(raw);
            Digest before = m.descriptor().digest();
            raw[0] = ' ';
            m.raw().bytes()[1] = 'x';
            assertThat(m.descriptor().digest()).isEqualTo(before);
        }

        @Test
        void unknownFieldsSurviveAModifiedRoundTrip() {
            Manifest m = OciJson.parseManifest(utf8(DOCKER_MANIFEST));
            assertThat(m.extraFields()).containsOnlyKeys("x-vendor");
            Manifest changed = m.withAnnotations(Map.of("org.opencontainers.image.title", "t"));
            assertThat(changed.raw()).isNull();
            byte[] written = OciJson.write(changed);
            assertThat(str(written)).contains("\"price\":2.50").contains("123456789012345678901234567890")
                    .contains("\"tags\":[\"a\",null,true]");
            Manifest again = OciJson.parseManifest(written);
            assertThat(again.extraFields()).isEqualTo(m.extraFields());
            assertThat(again.annotations()).containsEntry("org.opencontainers.image.title", "t");
            assertThat(again.layers()).isEqualTo(m.layers());
            assertThat(again.descriptor().digest()).isEqualTo(Digest.sha256(written));
        }

        @Test
        void writesOciFieldNamesInSpecOrderAndOmitsEmptyFields() {
            Descriptor config = new Descriptor(MediaTypes.OCI_CONFIG, Digest.parse(D1), 7);
            Descriptor layer = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.parse(D2), 9, List.of(),
                    Map.of("z", "1", "a", "2"), null);
            Manifest m = Manifest.of(config, List.of(layer));
            assertThat(str(OciJson.write(m))).isEqualTo("{\"schemaVersion\":2,"
                    + "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + D1
                    + "\",\"size\":7},"
                    + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + D2
                    + "\",\"size\":9,\"annotations\":{\"a\":\"2\",\"z\":\"1\"}}]}");
            assertThat(m.descriptor()).isEqualTo(Descriptor.of(MediaTypes.OCI_MANIFEST, OciJson.write(m)));
        }

        @Test
        void builtManifestRoundTripsToAnEqualValue() {
            Descriptor config = new Descriptor(MediaTypes.OCI_CONFIG, Digest.parse(D1), 7);
            Descriptor subject = new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse(D3), 100);
            Manifest m = new Manifest(2, MediaTypes.OCI_MANIFEST, "application/vnd.example+type", config,
                    List.of(), subject, Map.of("k", "v"), Map.of("x", List.of(1, "two")), null);
            Manifest back = OciJson.parseManifest(OciJson.write(m));
            assertThat(back.artifactType()).isEqualTo("application/vnd.example+type");
            assertThat(back.subject()).isEqualTo(subject);
            assertThat(back.layers()).isEmpty();
            assertThat(back.extraFields()).isEqualTo(Map.of("x", List.of(1, "two")));
            assertThat(new Manifest(back.schemaVersion(), back.mediaType(), back.artifactType(), back.config(),
                    back.layers(), back.subject(), back.annotations(), back.extraFields(), null)).isEqualTo(m);
        }

        @Test
        void ociManifestWithoutMediaTypeFieldGetsOciTypeInDescriptor() {
            String json = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                    + "\",\"digest\":\"" + D1 + "\",\"size\":2}}";
            Manifest m = OciJson.parseManifest(utf8(json));
            assertThat(m.mediaType()).isNull();
            assertThat(m.layers()).isEmpty();
            assertThat(m.descriptor().mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        }

        @Test
        void dockerFactoryUsesDockerMediaType() {
            Manifest m = Manifest.docker(new Descriptor(MediaTypes.DOCKER_CONFIG, Digest.parse(D1), 1), List.of());
            assertThat(m.descriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        }
    }

    @Nested
    class Indexes {
        @Test
        void parsesDockerManifestListWithPlatforms() {
            Index index = OciJson.parseIndex(utf8(INDEX));
            assertThat(index.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
            assertThat(index.manifests()).hasSize(4);
            assertThat(index.manifests().get(0).platform()).isEqualTo(new Platform("linux", "arm", "v6"));
            assertThat(index.manifests().get(2).platform())
                    .isEqualTo(new Platform("windows", "amd64", "", "10.0.17763.1", List.of("win32k")));
            assertThat(index.manifests().get(3).platform()).isNull();
            assertThat(index.manifests().get(3).annotations())
                    .containsEntry("vnd.docker.reference.type", "attestation-manifest");
            assertThat(index.descriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
            assertThat(index.descriptor().digest()).isEqualTo(Digest.sha256(utf8(INDEX)));
        }

        @Test
        void platformFieldsUseOciNamesWhenWritten() {
            Index index = OciJson.parseIndex(utf8(INDEX)).withAnnotations(Map.of());
            String json = str(OciJson.write(index));
            assertThat(json).contains("\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
                    + "\"os.version\":\"10.0.17763.1\",\"os.features\":[\"win32k\"]}");
            assertThat(json).contains("\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}");
            assertThat(json).doesNotContain("annotations\":{\"a\"");
            assertThat(OciJson.parseIndex(utf8(json)).manifests()).isEqualTo(index.manifests());
        }

        @Test
        void manifestsForPicksMatchingPlatformsBestFirst() {
            Index index = OciJson.parseIndex(utf8(INDEX));
            List<Descriptor> forArm64 = index.manifestsFor(PlatformMatcher.only(new Platform("linux", "arm64")));
            assertThat(forArm64).extracting(Descriptor::platform).containsExactly(new Platform("linux", "arm", "v6"));
            List<Descriptor> forAmd64 = index.manifestsFor(PlatformMatcher.only(new Platform("linux", "amd64")));
            assertThat(forAmd64).extracting(Descriptor::digest).containsExactly(Digest.parse(D2));
            assertThat(index.manifestsFor(PlatformMatcher.all())).hasSize(3);
        }

        @Test
        void builtIndexWritesManifestsEvenWhenEmpty() {
            assertThat(str(OciJson.write(Index.of(List.of()))))
                    .isEqualTo("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                            + "\"manifests\":[]}");
            assertThat(Index.dockerList(List.of()).descriptorMediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        }
    }

    @Nested
    class ImageConfigs {
        @Test
        void parsesDockerConfig() {
            ImageConfig c = OciJson.parseImageConfig(utf8(DOCKER_CONFIG));
            assertThat(c.platform()).isEqualTo(new Platform("linux", "amd64", "v2"));
            assertThat(c.created()).isEqualTo(Instant.parse("2023-11-01T19:37:31.123456789Z"));
            assertThat(c.config().user()).isEqualTo("nobody");
            assertThat(c.config().exposedPorts()).containsExactly("80/tcp", "443/tcp");
            assertThat(c.config().env()).hasSize(2).contains("NGINX_VERSION=1.25.3");
            assertThat(c.config().entrypoint()).containsExactly("/docker-entrypoint.sh");
            assertThat(c.config().cmd()).containsExactly("nginx", "-g", "daemon off;");
            assertThat(c.config().volumes()).isEmpty();
            assertThat(c.config().workingDir()).isEqualTo("/srv");
            assertThat(c.config().labels()).containsEntry("maintainer", "NGINX");
            assertThat(c.config().stopSignal()).isEqualTo("SIGQUIT");
            assertThat(c.diffIds()).containsExactly(Digest.parse(D1), Digest.parse(D2));
            assertThat(c.rootfs().type()).isEqualTo("layers");
            assertThat(c.history()).hasSize(2);
            assertThat(c.history().get(1).emptyLayer()).isTrue();
            assertThat(c.history().get(1).createdBy()).isEqualTo("CMD [\"bash\"]");
            assertThat(c.history().get(0).created()).isEqualTo(Instant.parse("2023-10-11T01:20:12.456Z"));
        }

        @Test
        void dockerOnlyFieldsAreKeptAtEveryLevel() {
            ImageConfig c = OciJson.parseImageConfig(utf8(DOCKER_CONFIG));
            assertThat(c.extraFields()).containsOnlyKeys("container", "container_config", "docker_version");
            assertThat(c.config().extraFields()).containsKeys("Hostname", "AttachStdin", "Image", "OnBuild",
                    "Healthcheck");
            assertThat(c.config().extraFields().get("Healthcheck"))
                    .isEqualTo(Map.of("Test", List.of("CMD", "true"), "Interval", 30000000000L));
            assertThat(c.history().get(1).extraFields()).containsEntry("x-history", "kept");
        }

        @Test
        void modifiedConfigRoundTripsKeepingUnknownFields() {
            ImageConfig c = OciJson.parseImageConfig(utf8(DOCKER_CONFIG));
            ImageConfig changed = c.toBuilder().config(c.config().withEnv(List.of("A=1"))).build();
            assertThat(changed.raw()).isNull();
            byte[] written = OciJson.write(changed);
            ImageConfig back = OciJson.parseImageConfig(written);
            assertThat(back.config().env()).containsExactly("A=1");
            assertThat(back.extraFields()).isEqualTo(c.extraFields());
            assertThat(back.config().extraFields()).isEqualTo(c.config().extraFields());
            assertThat(back.history()).isEqualTo(c.history());
            assertThat(back.created()).isEqualTo(c.created());
            assertThat(back.diffIds()).isEqualTo(c.diffIds());
            assertThat(str(written)).contains("\"created\":\"2023-11-01T19:37:31.123456789Z\"")
                    .contains("\"ExposedPorts\":{\"443/tcp\":{},\"80/tcp\":{}}")
                    .contains("\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + D1 + "\",\"" + D2 + "\"]}");
        }

        @Test
        void parsedConfigDescriptorUsesRawBytesAndCallersMediaType() throws Exception {
            byte[] raw = utf8(DOCKER_CONFIG);
            ImageConfig c = OciJson.parseImageConfig(raw);
            Descriptor d = c.descriptor(MediaTypes.DOCKER_CONFIG);
            assertThat(d.digest().toString()).isEqualTo(independentSha256(raw));
            assertThat(d.size()).isEqualTo(raw.length);
            assertThat(d.mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
            assertThat(c.descriptor().mediaType()).isEqualTo(MediaTypes.OCI_CONFIG);
        }

        @Test
        void builderMakesAMinimalOciConfig() {
            ImageConfig c = ImageConfig.builder("linux", "amd64")
                    .created(Instant.parse("2024-01-02T03:04:05.100Z"))
                    .config(ImageConfig.Config.EMPTY.withEntrypoint(List.of("/bin/sh")).withEnv(List.of("PATH=/bin")))
                    .diffIds(List.of(Digest.parse(D1)))
                    .addHistory(new ImageConfig.History(null, "test layer", false))
                    .build();
            assertThat(str(OciJson.write(c))).isEqualTo("{\"created\":\"2024-01-02T03:04:05.1Z\","
                    + "\"architecture\":\"amd64\",\"os\":\"linux\","
                    + "\"config\":{\"Env\":[\"PATH=/bin\"],\"Entrypoint\":[\"/bin/sh\"]},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + D1 + "\"]},"
                    + "\"history\":[{\"created_by\":\"test layer\"}]}");
            assertThat(OciJson.parseImageConfig(OciJson.write(c)).toBuilder().build()).isEqualTo(c);
        }

        @Test
        void createdWithOffsetIsReadAsInstant() {
            String json = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"created\":\"2024-01-01T02:00:00+02:00\","
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
            assertThat(OciJson.parseImageConfig(utf8(json)).created()).isEqualTo(Instant.parse("2024-01-01T00:00:00Z"));
        }
    }

    @Nested
    class Validation {
        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', quoteCharacter = '#', value = {
                "{                                             | invalid image manifest: malformed JSON at line 1",
                "[]                                            | invalid image manifest: expected a JSON object but found an array",
                "{\"schemaVersion\":2}                         | invalid image manifest at config: missing config",
                "{\"schemaVersion\":1,\"config\":{}}           | unsupported schemaVersion 1",
                "{\"config\":{}}                               | at schemaVersion: missing schemaVersion",
                "{\"schemaVersion\":\"2\"}                     | at schemaVersion: expected an integer but found a string",
                "{\"schemaVersion\":2,\"manifests\":[]}        | is this an image index?",
                "{\"schemaVersion\":2,\"config\":[]}           | at config: expected a JSON object but found an array",
                "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:x\",\"size\":1}} | at config.mediaType: missing mediaType",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"size\":1}}     | at config.digest: missing digest",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:x\",\"size\":1}} | at config.digest: invalid sha256 digest",
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"} | is not an image manifest type",
                "{\"schemaVersion\":2} trailing                | malformed JSON",
                "{\"schemaVersion\":2,\"schemaVersion\":2}     | malformed JSON",
        })
        void malformedManifestsNameWhatWasParsed(String json, String message) {
            assertThatThrownBy(() -> OciJson.parseManifest(utf8(json)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageStartingWith("invalid image manifest")
                    .hasMessageContaining(message.strip());
        }

        @Test
        void emptyOrBlankBytesAreMalformed() {
            for (String blank : List.of("", "  \n")) {
                assertThatThrownBy(() -> OciJson.parseManifest(utf8(blank)))
                        .isInstanceOf(InvalidArgumentException.class)
                        .hasMessageStartingWith("invalid image manifest: ");
            }
        }

        @Test
        void badLayerNamesItsPosition() {
            String json = DOCKER_MANIFEST.replace("\"size\": 5", "\"size\": -5");
            assertThatThrownBy(() -> OciJson.parseManifest(utf8(json)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("layers[1].size").hasMessageContaining("-5");
            String upper = DOCKER_MANIFEST.replace(D2, "sha256:" + "A".repeat(64));
            assertThatThrownBy(() -> OciJson.parseManifest(utf8(upper)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("layers[0].digest");
            String fractional = DOCKER_MANIFEST.replace("\"size\": 5", "\"size\": 5.5");
            assertThatThrownBy(() -> OciJson.parseManifest(utf8(fractional)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("layers[1].size");
        }

        @Test
        void indexRejectsManifestShapeAndBadPlatforms() {
            assertThatThrownBy(() -> OciJson.parseIndex(utf8(DOCKER_MANIFEST)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageStartingWith("invalid image index");
            String noArch = INDEX.replace("\"architecture\":\"arm\",", "");
            assertThatThrownBy(() -> OciJson.parseIndex(utf8(noArch)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("manifests[0].platform.architecture");
            assertThatThrownBy(() -> OciJson.parseIndex(utf8("{\"schemaVersion\":2,\"manifests\":{}}")))
                    .hasMessageContaining("at manifests: expected a JSON array");
        }

        @Test
        void configRejectsMissingPlatformAndBadValues() {
            assertThatThrownBy(() -> OciJson.parseImageConfig(utf8("{\"os\":\"linux\"}")))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("invalid image config at architecture: missing architecture");
            String badTime = DOCKER_CONFIG.replace("2023-11-01T19:37:31.123456789Z", "yesterday");
            assertThatThrownBy(() -> OciJson.parseImageConfig(utf8(badTime)))
                    .hasMessageContaining("at created: \"yesterday\" is not an RFC 3339 time");
            String badDiff = DOCKER_CONFIG.replace("\"diff_ids\":[\"" + D1, "\"diff_ids\":[\"sha1:00");
            assertThatThrownBy(() -> OciJson.parseImageConfig(utf8(badDiff)))
                    .hasMessageContaining("rootfs.diff_ids[0]");
            String badEnv = DOCKER_CONFIG.replace("\"Env\":[", "\"Env\":[1,");
            assertThatThrownBy(() -> OciJson.parseImageConfig(utf8(badEnv)))
                    .hasMessageContaining("config.Env[0]: expected a string but found a number");
            assertThatThrownBy(() -> OciJson.parseImageConfig(null)).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void extraFieldsMayNotShadowModelledFieldsOrHoldNonJsonValues() {
            Descriptor config = new Descriptor(MediaTypes.OCI_CONFIG, Digest.parse(D1), 7);
            assertThatThrownBy(() -> new Manifest(2, null, null, config, List.of(), null, Map.of(),
                    Map.of("layers", List.of()), null))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"layers\"");
            assertThatThrownBy(() -> new Manifest(2, null, null, config, List.of(), null, Map.of(),
                    Map.of("x", new Object()), null))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("manifest.x");
        }

        @Test
        void extraFieldsAreDeeplyUnmodifiable() {
            Manifest m = OciJson.parseManifest(utf8(DOCKER_MANIFEST));
            @SuppressWarnings("unchecked")
            Map<String, Object> vendor = (Map<String, Object>) m.extraFields().get("x-vendor");
            assertThatThrownBy(() -> vendor.put("y", 1)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> m.extraFields().clear()).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Nested
    class Dispatch {
        @Test
        void parseByMediaTypePicksTheModel() {
            assertThat(OciJson.parse(MediaTypes.DOCKER_MANIFEST, utf8(DOCKER_MANIFEST))).isInstanceOf(Manifest.class);
            assertThat(OciJson.parse(MediaTypes.OCI_INDEX, utf8(INDEX))).isInstanceOf(Index.class);
            assertThat(OciJson.parse(MediaTypes.DOCKER_CONFIG, utf8(DOCKER_CONFIG))).isInstanceOf(ImageConfig.class);
            assertThatThrownBy(() -> OciJson.parse(MediaTypes.OCI_LAYER, new byte[0]))
                    .isInstanceOf(NotImplementedException.class).hasMessageContaining(MediaTypes.OCI_LAYER);
        }

        @Test
        void descriptorRoundTrip() {
            Descriptor d = new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse(D1), 42, List.of("https://m"),
                    Map.of("org.opencontainers.image.ref.name", "latest"), new Platform("linux", "arm64", "v8"));
            byte[] json = OciJson.write(d);
            assertThat(str(json)).isEqualTo("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    + "\"digest\":\"" + D1 + "\",\"size\":42,\"urls\":[\"https://m\"],"
                    + "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"},"
                    + "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}");
            assertThat(OciJson.parseDescriptor(json)).isEqualTo(d);
            assertThatThrownBy(() -> OciJson.parseDescriptor(utf8("{\"mediaType\":\"x\",\"digest\":\"" + D1 + "\"}")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessage("invalid descriptor at size: missing size");
        }

        @Test
        void rawJsonEqualityIsByContent() {
            assertThat(RawJson.of(utf8("{}"))).isEqualTo(RawJson.of(utf8("{}")))
                    .hasSameHashCodeAs(RawJson.of(utf8("{}")))
                    .isNotEqualTo(RawJson.of(utf8("{ }")));
            assertThat(RawJson.of(utf8("{}")).size()).isEqualTo(2);
        }
    }
}
