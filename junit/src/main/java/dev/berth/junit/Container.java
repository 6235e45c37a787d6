package dev.berth.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A field of a {@link BerthTest} class holding a {@link Startable} ({@link BerthContainer}, {@link BerthNetwork})
 * that the extension starts and stops: a static field once per class, an instance field per test.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Container {
}
