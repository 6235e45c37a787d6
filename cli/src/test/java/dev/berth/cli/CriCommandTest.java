package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.cri.CriServer;
import java.net.InetSocketAddress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CriCommandTest {

    @Test
    void serveDefaultsToKubeletsConventions() {
        CriCommand.Serve serve = new CriCommand.Serve();
        new CommandLine(serve).parseArgs();
        assertThat(serve.socket).isEqualTo(CriServer.DEFAULT_SOCKET).isEqualTo(Path.of("/run/berth/cri.sock"));
        assertThat(serve.cniConfDir).isEqualTo(Path.of("/etc/cni/net.d"));
        assertThat(serve.cniBinDirs).containsExactly(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"));
        assertThat(serve.hostsDir).isNull();
        assertThat(serve.podsPerShim).as("unset: the server's default (1, or -Dberth.cri.podsPerShim)").isNull();
    }

    @Test
    void podsPerShimIsParsedAndAnInvalidCountIsNamed() {
        CriCommand.Serve serve = new CriCommand.Serve();
        new CommandLine(serve).parseArgs("--pods-per-shim", "8");
        assertThat(serve.podsPerShim).isEqualTo(8);
        assertThat(CriCommand.Serve.checkedPodsPerShim(8)).isEqualTo(8);
        assertThatThrownBy(() -> CriCommand.Serve.checkedPodsPerShim(0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("--pods-per-shim", "got 0");
    }

    @Test
    void serveTakesTheSocketAndCniDirectories() {
        CriCommand.Serve serve = new CriCommand.Serve();
        new CommandLine(serve).parseArgs("--socket", "/tmp/x/cri.sock", "--cni-conf-dir", "/srv/net.d",
                "--cni-bin-dir", "/a,/b", "--registry-config", "/etc/berth/certs.d");
        assertThat(serve.socket).isEqualTo(Path.of("/tmp/x/cri.sock"));
        assertThat(serve.cniConfDir).isEqualTo(Path.of("/srv/net.d"));
        assertThat(serve.cniBinDirs).isEqualTo(List.of(Path.of("/a"), Path.of("/b")));
        assertThat(serve.hostsDir).isEqualTo(Path.of("/etc/berth/certs.d"));
    }

    @Test
    void streamingAddressIsHostAndPortAndBadOnesAreNamed() {
        assertThat(CriCommand.Serve.hostPort("127.0.0.1:10010")).isEqualTo(new InetSocketAddress("127.0.0.1", 10010));
        assertThat(CriCommand.Serve.hostPort("[::1]:0").getAddress().isLoopbackAddress()).isTrue();
        assertThatThrownBy(() -> CriCommand.Serve.hostPort("10010")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> CriCommand.Serve.hostPort("127.0.0.1:99999"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("out of range");
    }

    @Test
    void criIsASubcommandOfBerthWithServe() {
        StringWriter out = new StringWriter();
        int exit = Main.run(new String[] {"help", "cri"}, new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(exit).isZero();
        assertThat(out.toString()).contains("serve");
        String usage = new CommandLine(new CriCommand()).getSubcommands().get("serve")
                .getUsageMessage();
        assertThat(usage).contains("--socket", "--cni-conf-dir", "--cni-bin-dir", "--pods-per-shim", "SIGTERM");
    }
}
