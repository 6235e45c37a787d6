/** Berth's OCI distribution client: pull, push, authentication and registry hosts. */
module dev.berth.registry {
    requires transitive dev.berth.api;
    requires dev.berth.content;
    requires com.github.benmanes.caffeine;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.toml;
    requires java.net.http;
    requires org.slf4j;

    exports dev.berth.registry;
}
