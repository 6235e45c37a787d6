package dev.berth.api.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FilterTest {

    /** An image-like record as a store would expose it. */
    private static final Filter.FieldPathAdaptor NGINX = FieldPaths.builder()
            .field("name", "docker.io/library/nginx:1.25")
            .field("target.mediatype", "application/vnd.oci.image.index.v1+json")
            .map("labels", Map.of("com.example/app", "web", "tier", "front end", "empty", "", "a.b", "dotted"))
            .build();

    private static final Filter.FieldPathAdaptor BUSYBOX = FieldPaths.builder()
            .field("name", "docker.io/library/busybox:latest")
            .map("labels", Map.of("tier", "back"))
            .build();

    private static boolean matches(String filter, Filter.FieldPathAdaptor a) {
        return Filter.parse(filter).matches(a);
    }

    @Nested
    class Selectors {
        @ParameterizedTest(name = "{0} matches nginx: {1}")
        @CsvSource(delimiter = '|', value = {
                "name                                      | true",
                "nope                                      | false",
                "labels.tier                               | true",
                "labels.empty                              | true",
                "labels.missing                            | false",
                "labels                                    | false",
                "name==docker.io/library/nginx:1.25        | true",
                "name==docker.io/library/nginx             | false",
                "name!=docker.io/library/nginx             | true",
                "name!=docker.io/library/nginx:1.25        | false",
                "name~=nginx                               | true",
                "name~=^nginx                              | false",
                "name~=\"^docker\\\\.io/.*:1\\\\.2\"         | true",
                "name~=/library\\/ngin/                      | true",
                "name@=library/ng                          | true",
                "name@=alpine                              | false",
                "labels.\"com.example/app\"==web           | true",
                "labels.\"com.example/app\"==db            | false",
                "labels.\"a.b\"==dotted                    | true",
                "labels.a.b                                | false",
                "labels.tier==\"front end\"                | true",
                "\"labels\".\"tier\"==\"front end\"        | true",
                "target.mediatype~=index                   | true",
                "target.digest                             | false",
        })
        void selectorSemantics(String filter, boolean expected) {
            assertThat(matches(filter.strip(), NGINX)).isEqualTo(expected);
        }

        @Test
        void inequalityMatchesAbsentFieldsLikeContainerd() {
            assertThat(matches("labels.missing!=x", NGINX)).isTrue();
            assertThat(matches("labels.missing!=\"\"", NGINX)).isFalse();
        }

        @Test
        void equalityNeverMatchesAbsentFieldEvenWithEmptyValue() {
            assertThat(matches("labels.missing==\"\"", NGINX)).isFalse();
            assertThat(matches("labels.empty==\"\"", NGINX)).isTrue();
        }

        @Test
        void regexpIsUnanchoredFindLikeGoMatchString() {
            assertThat(matches("name~=library", NGINX)).isTrue();
            assertThat(matches("name~=\"^library\"", NGINX)).isFalse();
            assertThat(matches("name~=\"1\\\\.25$\"", NGINX)).isTrue();
        }

        @Test
        void whitespaceAroundTokensIsIgnored() {
            assertThat(matches("  name == docker.io/library/nginx:1.25 ,  labels . tier  ", NGINX)).isTrue();
        }
    }

    @Nested
    class Combination {
        @Test
        void commaRequiresEverySelector() {
            assertThat(matches("name~=nginx,labels.tier", NGINX)).isTrue();
            assertThat(matches("name~=nginx,labels.missing", NGINX)).isFalse();
        }

        @Test
        void severalStringsAreOr() {
            Filter f = Filter.parse("name~=nginx,labels.tier==back", "labels.tier==back");
            assertThat(f.matches(NGINX)).isFalse();
            assertThat(f.matches(BUSYBOX)).isTrue();
            Filter g = Filter.parse(List.of("name~=busybox", "name~=nginx"));
            assertThat(g.matches(NGINX)).isTrue();
            assertThat(g.matches(BUSYBOX)).isTrue();
        }

        @Test
        void noFilterStringsMatchEverything() {
            assertThat(Filter.parse().matches(NGINX)).isTrue();
            assertThat(Filter.parse(List.of()).matches(path -> java.util.Optional.empty())).isTrue();
            assertThat(Filter.always().matches(BUSYBOX)).isTrue();
        }

        @Test
        void emptyFilterStringMatchesEverything() {
            assertThat(Filter.parse("").matches(BUSYBOX)).isTrue();
            assertThat(Filter.parse("name==nothing", "").matches(BUSYBOX)).isTrue();
        }
    }

    @Nested
    class Quoting {
        @Test
        void quotedValueUnescapesGoEscapes() {
            Filter.FieldPathAdaptor a = FieldPaths.builder().field("v", "a\"b\\c\td\u00e9\u263a").build();
            assertThat(Filter.parse("v==\"a\\\"b\\\\c\\td\\u00e9\\U0000263a\"").matches(a)).isTrue();
            assertThat(Filter.parse("v==\"a\\\"b\\\\c\\x09d\\u00e9\\u263a\"").matches(a)).isTrue();
            assertThat(Filter.parse("v==\"a\\\"b\\\\c\\011d\\u00e9\\u263a\"").matches(a)).isTrue();
        }

        @Test
        void pipeQuotesLikeDoubleQuotes() {
            assertThat(matches("labels.tier==|front end|", NGINX)).isTrue();
            assertThat(matches("labels.tier~=|^front\\\\s|", NGINX)).isTrue();
        }

        @Test
        void slashQuotedRegexpMayEscapeSlash() {
            Filter.FieldPathAdaptor a = FieldPaths.builder().field("topic", "/tasks/exit").build();
            assertThat(Filter.parse("topic~=/^\\/tasks\\//").matches(a)).isTrue();
            assertThat(Filter.parse("topic==\"/tasks/exit\"").matches(a)).isTrue();
        }

        @Test
        void quotedFieldMayContainCommasAndOperators() {
            Filter.FieldPathAdaptor a = FieldPaths.builder().map("labels", Map.of("a,b==c", "x")).build();
            assertThat(Filter.parse("labels.\"a,b==c\"==x").matches(a)).isTrue();
        }

        @Test
        void bareValueMayContainQuotesAndSlashesAfterFirstCharacter() {
            Filter.FieldPathAdaptor a = FieldPaths.builder().field("ref", "a/b\"c").build();
            assertThat(Filter.parse("ref==a/b\"c").matches(a)).isTrue();
        }
    }

    @Nested
    class Errors {
        @ParameterizedTest(name = "[{0}] fails at column {1}: {2}")
        @CsvSource(delimiter = '|', quoteCharacter = '#', value = {
                "name==               | 7  | expected value",
                "name==,x             | 7  | expected value",
                ",name                | 1  | expected field name",
                "name,                | 6  | expected field name",
                "name.                | 6  | expected field name",
                "name..x              | 6  | expected field name",
                "name=~x              | 5  | unsupported operator \"=~\"",
                "name===x             | 5  | unsupported operator \"===\"",
                "name=x               | 5  | unsupported operator \"=\"",
                "name x               | 6  | expected an operator",
                "name==a b            | 9  | unexpected input 'b'",
                "topic==/tasks/exit   | 15 | unexpected input 'e'",
                "name==\"abc          | 7  | quoted literal not terminated",
                "\"abc==x             | 1  | quoted literal not terminated",
                "name==\"a\\qb\"      | 9  | illegal escape sequence \\q",
                "name==\"\\x4\"       | 8  | illegal numeric escape sequence",
                "name==\"\\777\"      | 8  | octal escape value > 255",
                "name~=\"(\"          | 7  | invalid regular expression \"(\"",
                "name~=/\\d+/         | 8  | illegal escape sequence \\d",
                "$name                | 1  | expected field name but found '$'",
        })
        void syntaxErrorsNameFilterAndColumn(String filter, int column, String message) {
            String f = filter.strip();
            assertThatThrownBy(() -> Filter.parse(f))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageStartingWith("filter \"" + f + "\": ")
                    .hasMessageContaining(message)
                    .hasMessageEndingWith(" at column " + column);
        }

        @Test
        void exampleFromTheDocs() {
            assertThatThrownBy(() -> Filter.parse("name=="))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("filter \"name==\": expected value at column 7");
        }

        @Test
        void errorInAnyOfSeveralStringsIsReported() {
            assertThatThrownBy(() -> Filter.parse("name", "labels.\"x"))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageStartingWith("filter \"labels.\"x\": ");
        }

        @ParameterizedTest
        @ValueSource(strings = {" ", "  ,", "\t"})
        void blankFilterIsAnErrorNotMatchAll(String filter) {
            assertThatThrownBy(() -> Filter.parse(filter)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("expected field name");
        }

        @Test
        void nullFilterStringIsRejected() {
            assertThatThrownBy(() -> Filter.parse(java.util.Arrays.asList("name", null)))
                    .isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void parsedFilterIsReusableAndDescribesItself() {
        Filter f = Filter.parse("name~=nginx");
        assertThat(f.matches(NGINX)).isTrue();
        assertThat(f.matches(BUSYBOX)).isFalse();
        assertThat(f.matches(NGINX)).isTrue();
        assertThat(f.toString()).contains("name~=nginx");
    }
}
