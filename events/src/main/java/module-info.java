/** Berth's in-process event exchange and the event journal shared by the processes on a state directory. */
module dev.berth.events {
    requires transitive dev.berth.api;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.berth.events;
    exports dev.berth.events.journal;
}
