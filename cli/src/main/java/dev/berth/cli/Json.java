package dev.berth.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The CLI's Jackson mappers, made on first use: picocli instantiates every command when it builds the
 * command line, so a mapper in a command's static field would cost every invocation Jackson's start-up.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final ObjectMapper INDENTED = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }
}
