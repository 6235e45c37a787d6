package dev.berth.api.oci.runtime.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import java.io.IOException;
import java.math.BigInteger;

/** Jackson codecs for {@link Unsigned} values. Internal to Berth. */
public final class UnsignedLongJson {
    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

    private UnsignedLongJson() {
    }

    public static final class Serializer extends StdScalarSerializer<Long> {
        private static final long serialVersionUID = 1L;

        public Serializer() {
            super(Long.class);
        }

        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            if (value >= 0) {
                gen.writeNumber(value);
            } else {
                gen.writeNumber(new BigInteger(Long.toUnsignedString(value)));
            }
        }
    }

    public static final class Deserializer extends StdScalarDeserializer<Long> {
        private static final long serialVersionUID = 1L;

        public Deserializer() {
            super(Long.class);
        }

        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                return (Long) ctxt.handleUnexpectedToken(Long.class, p);
            }
            if (p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                return p.getLongValue();
            }
            BigInteger big = p.getBigIntegerValue();
            if (big.signum() < 0 || big.compareTo(TWO_TO_64) >= 0) {
                return (Long) ctxt.handleWeirdNumberValue(Long.class, big, "not an unsigned 64-bit value");
            }
            return big.longValue();
        }
    }
}
