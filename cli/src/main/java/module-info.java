/** The {@code berth} command line (shaped like containerd's ctr). An application: it exports nothing. */
module dev.berth.cli {
    requires dev.berth;
    requires dev.berth.cri;
    requires dev.berth.sys;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires org.objectweb.asm;

    // picocli builds and fills the commands reflectively.
    opens dev.berth.cli to info.picocli;
}
