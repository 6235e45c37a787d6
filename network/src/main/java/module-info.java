/** Berth's container networking: CNI plugins, network namespaces, networks, names and published ports. */
module dev.berth.network {
    requires transitive dev.berth.api;
    requires dev.berth.sys;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.berth.network;
    // the CRI server makes pod network namespaces the way networks do
    exports dev.berth.network.internal to dev.berth.cri;

    // Jackson reads and writes the saved attachments and network records reflectively.
    opens dev.berth.network to com.fasterxml.jackson.databind;
}
