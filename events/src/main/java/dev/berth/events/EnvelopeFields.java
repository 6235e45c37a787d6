package dev.berth.events;

import dev.berth.api.event.Envelope;
import dev.berth.api.filter.Filter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The field paths filters see on an envelope: {@code topic}, {@code namespace} and
 * {@code event.<component>[.<component>...]}.
 *
 * <p>Event fields are the event record's components, by their Java name ({@code containerId}) or
 * containerd's snake_case name ({@code container_id}); nested records and {@code Map<String, ?>} values
 * ({@code event.labels.app}) are followed. As in containerd, an empty string field counts as absent, while
 * a map entry is present even when its value is empty. Numbers, booleans, enums and instants (ISO-8601)
 * compare as their string form; a record with its own {@code toString} (such as {@code Digest}) compares
 * as that string. Lists and arrays are not addressable.
 */
final class EnvelopeFields {

    private static final ClassValue<RecordShape> SHAPES = new ClassValue<>() {
        @Override
        protected RecordShape computeValue(Class<?> type) {
            return RecordShape.of(type);
        }
    };

    private EnvelopeFields() {
    }

    static Filter.FieldPathAdaptor of(Envelope envelope) {
        return path -> field(envelope, path);
    }

    static Optional<String> field(Envelope envelope, List<String> path) {
        if (path.isEmpty()) {
            return Optional.empty();
        }
        return switch (path.get(0)) {
            case "topic" -> Optional.of(envelope.topic());
            case "namespace" -> Optional.of(envelope.namespace());
            case "event" -> path.size() == 1 ? Optional.empty() : follow(envelope.event(), path, 1, false);
            default -> Optional.empty();
        };
    }

    private static Optional<String> follow(Object value, List<String> path, int index, boolean mapEntry) {
        if (value == null) {
            return Optional.empty();
        }
        if (index == path.size()) {
            return render(value, mapEntry);
        }
        if (value instanceof Record) {
            Method accessor = SHAPES.get(value.getClass()).accessors.get(path.get(index));
            return accessor == null ? Optional.empty() : follow(read(accessor, value), path, index + 1, false);
        }
        if (value instanceof Map<?, ?> map) {
            return follow(map.get(path.get(index)), path, index + 1, true);
        }
        return Optional.empty();
    }

    private static Optional<String> render(Object value, boolean mapEntry) {
        if (value instanceof String s) {
            return s.isEmpty() && !mapEntry ? Optional.empty() : Optional.of(s);
        }
        if (value instanceof Record) {
            return SHAPES.get(value.getClass()).hasOwnString ? Optional.of(value.toString()) : Optional.empty();
        }
        if (value instanceof Collection<?> || value instanceof Map<?, ?> || value.getClass().isArray()) {
            return Optional.empty();
        }
        return Optional.of(value.toString());
    }

    private static Object read(Method accessor, Object record) {
        try {
            return accessor.invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return null;
        }
    }

    /** A record class's component accessors by Java and snake_case name, computed once per class. */
    private static final class RecordShape {
        final Map<String, Method> accessors;
        final boolean hasOwnString;

        private RecordShape(Map<String, Method> accessors, boolean hasOwnString) {
            this.accessors = accessors;
            this.hasOwnString = hasOwnString;
        }

        static RecordShape of(Class<?> type) {
            RecordComponent[] components = type.getRecordComponents();
            if (components == null) {
                return new RecordShape(Map.of(), false);
            }
            Map<String, Method> accessors = new HashMap<>();
            for (RecordComponent component : components) {
                Method accessor = component.getAccessor();
                // Non-public records (nested in a non-exported or private scope) need this; public ones do not.
                accessor.trySetAccessible();
                accessors.put(component.getName(), accessor);
                accessors.putIfAbsent(snakeCase(component.getName()), accessor);
            }
            boolean hasOwnString;
            try {
                type.getDeclaredMethod("toString");
                hasOwnString = true;
            } catch (NoSuchMethodException e) {
                hasOwnString = false;
            }
            return new RecordShape(Map.copyOf(accessors), hasOwnString);
        }
    }

    static String snakeCase(String javaName) {
        StringBuilder out = new StringBuilder(javaName.length() + 4);
        for (int i = 0; i < javaName.length(); i++) {
            char c = javaName.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) {
                    out.append('_');
                }
                out.append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
