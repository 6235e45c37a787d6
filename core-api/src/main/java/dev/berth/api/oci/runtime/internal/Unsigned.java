package dev.berth.api.oci.runtime.internal;

import com.fasterxml.jackson.annotation.JacksonAnnotationsInside;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code long} that holds a Go {@code uint64}: written and read as an unsigned decimal, so
 * {@code -1L} is {@code 18446744073709551615} on the wire. Internal to Berth.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER})
@JacksonAnnotationsInside
@JsonSerialize(using = UnsignedLongJson.Serializer.class)
@JsonDeserialize(using = UnsignedLongJson.Deserializer.class)
public @interface Unsigned {
}
