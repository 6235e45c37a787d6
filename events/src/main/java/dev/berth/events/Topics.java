package dev.berth.events;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** containerd's topic and namespace rules, with a small cache so publishing does not run a regex per event. */
final class Topics {
    /** Envelopes on these topics are never dropped: missing one leaves a caller waiting on a dead task forever. */
    static final String TASK_EXIT = "/tasks/exit";
    static final String TASK_OOM = "/tasks/oom";
    static final String TASK_DELETE = "/tasks/delete";

    // Real programs use a few dozen topics and namespaces; the cap only stops a caller that invents new
    // names per event from growing the cache without limit.
    private static final int CACHE_LIMIT = 1024;
    private static final Map<String, Boolean> VALID_TOPICS = new ConcurrentHashMap<>();
    private static final Map<String, Boolean> VALID_NAMESPACES = new ConcurrentHashMap<>();

    private Topics() {
    }

    static boolean isCritical(String topic) {
        return topic.equals(TASK_EXIT) || topic.equals(TASK_DELETE) || topic.equals(TASK_OOM);
    }

    static String validateTopic(String topic) {
        if (topic != null && VALID_TOPICS.containsKey(topic)) {
            return topic;
        }
        if (topic == null || topic.isEmpty()) {
            throw new InvalidArgumentException("topic must not be empty");
        }
        if (topic.charAt(0) != '/') {
            throw new InvalidArgumentException("topic \"" + topic + "\" must start with '/'");
        }
        if (topic.length() == 1) {
            throw new InvalidArgumentException("topic \"" + topic + "\" must have at least one component");
        }
        // split with limit -1 keeps trailing empty components, so "/tasks/" is rejected like "/tasks//exit".
        for (String component : topic.substring(1).split("/", -1)) {
            if (!Identifiers.isValid(component)) {
                throw new InvalidArgumentException("topic \"" + topic + "\" has an invalid component \""
                        + component + "\": components must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)* and be at most "
                        + Identifiers.MAX_LENGTH + " characters");
            }
        }
        remember(VALID_TOPICS, topic);
        return topic;
    }

    static String validateNamespace(String namespace) {
        if (namespace != null && VALID_NAMESPACES.containsKey(namespace)) {
            return namespace;
        }
        Identifiers.validate("namespace", namespace);
        remember(VALID_NAMESPACES, namespace);
        return namespace;
    }

    private static void remember(Map<String, Boolean> cache, String valid) {
        if (cache.size() < CACHE_LIMIT) {
            cache.put(valid, Boolean.TRUE);
        }
    }
}
