/** Berth: the embedded containerd core ({@code Berth.open}) over the other Berth modules. */
module dev.berth {
    requires transitive dev.berth.api;
    requires transitive dev.berth.content;
    requires transitive dev.berth.events;
    requires transitive dev.berth.image;
    requires transitive dev.berth.network;
    requires transitive dev.berth.registry;
    requires transitive dev.berth.runtime;
    requires transitive dev.berth.snapshot;
    requires dev.berth.sys;
    requires com.fasterxml.jackson.databind;
    requires java.sql;
    requires org.slf4j;

    exports dev.berth;
}
