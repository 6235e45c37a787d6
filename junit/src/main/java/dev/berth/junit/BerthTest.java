package dev.berth.junit;

import dev.berth.junit.internal.BerthExtension;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class whose {@link Container @Container} fields Berth starts and removes: static fields once
 * for the class (before the first test, after the last), instance fields around each test. Networks
 * ({@link BerthNetwork}) start before containers, in field order otherwise; everything stops in reverse
 * order, whether the test passed or failed. Testcontainers' {@code @Testcontainers}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(BerthExtension.class)
public @interface BerthTest {
}
