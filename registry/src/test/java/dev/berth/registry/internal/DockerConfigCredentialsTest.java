package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.registry.Credential;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerConfigCredentialsTest {
    @TempDir
    Path dir;

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private DockerConfigCredentials config(String json) throws Exception {
        return new DockerConfigCredentials(Files.writeString(dir.resolve("config.json"), json),
                List.of(dir.resolve("bin")));
    }

    @Test
    void authsEntriesMatchByHostIgnoringSchemeAndPath() throws Exception {
        DockerConfigCredentials c = config("{\"auths\":{"
                + "\"https://index.docker.io/v1/\":{\"auth\":\"" + b64("hubuser:hubpass") + "\"},"
                + "\"https://reg.example:5000/v2\":{\"auth\":\"" + b64("u:p:with:colons") + "\"},"
                + "\"token.example\":{\"identitytoken\":\"refresh-me\"}}}");
        assertThat(c.forHost("docker.io")).contains(Credential.basic("hubuser", "hubpass"));
        assertThat(c.forHost("registry-1.docker.io")).contains(Credential.basic("hubuser", "hubpass"));
        assertThat(c.forHost("reg.example:5000")).contains(Credential.basic("u", "p:with:colons"));
        assertThat(c.forHost("token.example")).contains(Credential.identityToken("refresh-me"));
        assertThat(c.forHost("reg.example")).isEmpty();
    }

    @Test
    void missingFileMeansNoCredentials() {
        assertThat(new DockerConfigCredentials(dir.resolve("absent.json")).forHost("docker.io")).isEmpty();
    }

    @Test
    void credsStoreHelperAnswersForOtherHostsAndTokenUserMeansIdentityToken() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path helper = bin.resolve("docker-credential-store");
        Files.writeString(helper, "#!/bin/sh\nread host\n"
                + "if [ \"$host\" = other.example ]; then echo 'credentials not found in native keychain'; exit 1; fi\n"
                + "printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"tok-%s\"}' \"$host\" \"$host\"\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwx------"));
        DockerConfigCredentials c = config("{\"credsStore\":\"store\"}");
        assertThat(c.forHost("docker.io")).contains(Credential.identityToken("tok-https://index.docker.io/v1/"));
        assertThat(c.forHost("other.example")).isEmpty();
    }

    @Test
    void helperThatIsNotInstalledIsNamed() throws Exception {
        DockerConfigCredentials c = config("{\"credHelpers\":{\"reg.example\":\"nowhere\"}}");
        assertThatThrownBy(() -> c.forHost("reg.example")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("docker-credential-nowhere");
    }

    @Test
    void malformedAuthIsRejected() throws Exception {
        DockerConfigCredentials c = config("{\"auths\":{\"reg.example\":{\"auth\":\"" + b64("nocolon") + "\"}}}");
        assertThatThrownBy(() -> c.forHost("reg.example")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("user:password");
    }
}
