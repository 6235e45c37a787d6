/**
 * Berth's Linux system calls (through jnr-ffi) and its SQLite access: internal to Berth, so its packages
 * are exported only to the Berth modules that use them.
 */
@SuppressWarnings("module") // qualified exports name modules built after this one
module dev.berth.sys {
    requires transitive dev.berth.api;
    requires transitive java.sql;
    requires org.jnrproject.ffi;
    // jnr-ffi is an automatic module, so it cannot require the asm modules it generates bindings with:
    // requiring them here puts them in the module graph.
    requires org.objectweb.asm.commons;
    requires org.objectweb.asm.util;
    requires org.slf4j;
    requires org.xerial.sqlitejdbc;

    exports dev.berth.sys to dev.berth, dev.berth.content, dev.berth.snapshot, dev.berth.runtime, dev.berth.network, dev.berth.testing,
            dev.berth.cri, dev.berth.cli;
    exports dev.berth.sys.sqlite to dev.berth, dev.berth.snapshot, dev.berth.cri; // cri: unsynced CRI records

    // jnr-ffi implements LibC in a class it defines at run time in a class loader of its own (an unnamed
    // module, which a qualified export cannot name): open the package at run time, export it to no one.
    opens dev.berth.sys;
}
