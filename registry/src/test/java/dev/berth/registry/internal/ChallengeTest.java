package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChallengeTest {
    @Test
    void parsesBearerWithQuotedParameters() {
        List<Challenge> c = Challenge.parse(List.of("Bearer realm=\"https://auth.example.com/token\","
                + "service=\"registry.example.com\",scope=\"repository:library/busybox:pull\""));
        assertThat(c).singleElement().satisfies(ch -> {
            assertThat(ch.scheme()).isEqualTo("bearer");
            assertThat(ch.params()).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "realm", "https://auth.example.com/token", "service", "registry.example.com",
                    "scope", "repository:library/busybox:pull"));
        });
    }

    @Test
    void parsesErrorAndEscapesAndSeveralChallengesInOneHeader() {
        List<Challenge> c = Challenge.parse(List.of(
                "Basic realm=\"a \\\"quoted\\\" realm\", Bearer realm=\"r\",error=\"invalid_token\", error_description=x"));
        assertThat(c).extracting(Challenge::scheme).containsExactly("basic", "bearer");
        assertThat(c.get(0).param("realm")).isEqualTo("a \"quoted\" realm");
        assertThat(c.get(1).param("error")).isEqualTo("invalid_token");
        assertThat(c.get(1).param("error_description")).isEqualTo("x");
    }

    @Test
    void schemeAndParameterNamesAreCaseInsensitive() {
        Challenge c = Challenge.parse(List.of("BEARER Realm=\"r\"")).get(0);
        assertThat(c.scheme()).isEqualTo("bearer");
        assertThat(c.param("realm")).isEqualTo("r");
    }

    @Test
    void emptyHeaderGivesNoChallenge() {
        assertThat(Challenge.parse(List.of("", "  "))).isEmpty();
    }
}
