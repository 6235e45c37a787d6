/** Berth's in-process event exchange. */
module dev.berth.events {
    requires transitive dev.berth.api;
    requires org.slf4j;

    exports dev.berth.events;
}
