package dev.berth.api.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FieldPathsTest {

    @Test
    void plainFieldIsPresentOnlyWhenNonEmpty() {
        FieldPaths a = FieldPaths.builder().field("name", "x").field("parent", "").field("id", null).build();
        assertThat(a.field(List.of("name"))).contains("x");
        assertThat(a.field(List.of("parent"))).isEmpty();
        assertThat(a.field(List.of("id"))).isEmpty();
        assertThat(a.field(List.of("other"))).isEmpty();
    }

    @Test
    void dottedFieldMatchesItsParts() {
        FieldPaths a = FieldPaths.builder().field("target.digest", "sha256:x").build();
        assertThat(a.field(List.of("target", "digest"))).contains("sha256:x");
        assertThat(a.field(List.of("target"))).isEmpty();
        assertThat(a.field(List.of("target.digest"))).isEmpty();
    }

    @Test
    void mapKeysArePresentEvenWithEmptyValueAndMayContainDots() {
        FieldPaths a = FieldPaths.builder().map("labels", Map.of("a.b", "1", "e", "")).build();
        assertThat(a.field(List.of("labels", "a.b"))).contains("1");
        assertThat(a.field(List.of("labels", "e"))).contains("");
        assertThat(a.field(List.of("labels", "a", "b"))).isEmpty();
        assertThat(a.field(List.of("labels"))).isEmpty();
        assertThat(a.field(List.of("labels", "zzz"))).isEmpty();
    }

    @Test
    void mapIsCopiedAtBuildTime() {
        Map<String, String> labels = new HashMap<>(Map.of("k", "v"));
        FieldPaths a = FieldPaths.builder().map("labels", labels).build();
        labels.put("k", "changed");
        assertThat(a.field(List.of("labels", "k"))).contains("v");
    }

    @Test
    void nestedAdaptorSeesPathWithoutPrefix() {
        Filter.FieldPathAdaptor event = path -> path.equals(List.of("container_id")) ? Optional.of("c1")
                : Optional.empty();
        FieldPaths a = FieldPaths.builder().field("topic", "/tasks/exit").nested("event", event).build();
        assertThat(a.field(List.of("event", "container_id"))).contains("c1");
        assertThat(a.field(List.of("event", "pid"))).isEmpty();
        assertThat(a.field(List.of("event"))).isEmpty();
        assertThat(Filter.parse("topic==\"/tasks/exit\",event.container_id==c1").matches(a)).isTrue();
    }

    @Test
    void laterRegistrationWins() {
        FieldPaths a = FieldPaths.builder().field("name", "old").field("name", "new").build();
        assertThat(a.field(List.of("name"))).contains("new");
    }

    @Test
    void treeAdaptorDescendsMapsAndStringifiesLeaves() {
        Map<String, Object> tree = Map.of("id", "c1", "pid", 42, "status", Map.of("exited", true),
                "labels", Map.of("k", ""));
        Filter.FieldPathAdaptor a = FieldPaths.ofTree(tree);
        assertThat(a.field(List.of("id"))).contains("c1");
        assertThat(a.field(List.of("pid"))).contains("42");
        assertThat(a.field(List.of("status", "exited"))).contains("true");
        assertThat(a.field(List.of("status"))).isEmpty();
        assertThat(a.field(List.of("labels", "k"))).contains("");
        assertThat(a.field(List.of("id", "deeper"))).isEmpty();
        assertThat(Filter.parse("pid==42,status.exited==true").matches(a)).isTrue();
    }

    @Test
    void badPathsAreRejectedWhenBuilding() {
        assertThatThrownBy(() -> FieldPaths.builder().field("", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FieldPaths.builder().field("a..b", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a..b");
    }
}
