package dev.berth.junit.internal;

import dev.berth.junit.BerthNetwork;
import dev.berth.junit.Container;
import dev.berth.junit.Startable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The extension behind {@link dev.berth.junit.BerthTest}: starts the {@link Container @Container} fields'
 * values (static ones before all tests of the class, instance ones before each test; networks first, then
 * in field order) and stops them in reverse order afterwards, whatever the tests did. What was started is
 * kept in the context's store, so a start that fails half-way still stops what had started.
 */
public final class BerthExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {
    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(BerthExtension.class);
    private static final String STARTED = "started";

    @Override
    public void beforeAll(ExtensionContext context) {
        startAll(context, startables(context.getRequiredTestClass(), null));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stopAll(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        List<Startable> all = new ArrayList<>();
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            all.addAll(startables(instance.getClass(), instance));
        }
        startAll(context, all);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        stopAll(context);
    }

    private static void startAll(ExtensionContext context, List<Startable> startables) {
        List<Startable> started = new ArrayList<>();
        context.getStore(STORE).put(STARTED, started);
        startables.sort(Comparator.comparing(s -> s instanceof BerthNetwork ? 0 : 1)); // stable: field order kept
        for (Startable s : startables) {
            s.start();
            started.add(s);
        }
    }

    @SuppressWarnings("unchecked")
    private static void stopAll(ExtensionContext context) {
        List<Startable> started = (List<Startable>) context.getStore(STORE).remove(STARTED, List.class);
        if (started == null) {
            return;
        }
        RuntimeException failure = null;
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).stop();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The static (instance null) or instance {@code @Container} fields' values, superclass fields first. */
    private static List<Startable> startables(Class<?> type, Object instance) {
        List<Class<?>> hierarchy = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            hierarchy.add(0, c);
        }
        List<Startable> out = new ArrayList<>();
        for (Class<?> c : hierarchy) {
            for (Field f : c.getDeclaredFields()) {
                if (!f.isAnnotationPresent(Container.class) || Modifier.isStatic(f.getModifiers()) != (instance == null)) {
                    continue;
                }
                if (!Startable.class.isAssignableFrom(f.getType())) {
                    throw new ExtensionConfigurationException("@Container field " + c.getName() + "." + f.getName()
                            + " is a " + f.getType().getName() + ", not a BerthContainer, BerthNetwork or other Startable");
                }
                Object value;
                try {
                    f.setAccessible(true);
                    value = f.get(instance);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ExtensionConfigurationException("cannot read @Container field " + c.getName() + "."
                            + f.getName() + ": " + e, e);
                }
                if (value == null) {
                    throw new ExtensionConfigurationException("@Container field " + c.getName() + "." + f.getName()
                            + " is null; initialize it where it is declared");
                }
                out.add((Startable) value);
            }
        }
        return out;
    }
}
