package dev.berth.runtime.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a task's {@code /tasks/exit} published once across every runtime on the state directory. Two
 * paths can publish it: the runtime serving the events socket when the shim's own event arrives, and a
 * runtime that reconnects to a task which exited while no runtime was alive (the shim's publish retries
 * ran out, or are still running and race it). Each claims the exit first by creating a marker file in the
 * task's bundle; the one that creates it publishes. The marker goes with the bundle on delete.
 */
final class ExitClaims {
    private static final Logger log = LoggerFactory.getLogger(ExitClaims.class);
    static final String MARKER = "exit-published";
    private final Path tasksDir;

    ExitClaims(Path tasksDir) {
        this.tasksDir = tasksDir;
    }

    /** Whether the caller is the first to publish the exit of task {@code namespace/id}'s init process. */
    boolean claim(String namespace, String id) {
        Path bundle = tasksDir.resolve(namespace).resolve(id);
        try {
            Files.createFile(bundle.resolve(MARKER),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return true;
        } catch (FileAlreadyExistsException published) {
            return false;
        } catch (NoSuchFileException noBundle) {
            return true; // deleted already, or never had one here: no other runtime can reconnect and publish it
        } catch (IOException e) {
            log.warn("cannot mark the exit of {}/{} as published: {}", namespace, id, e.toString());
            return true;
        }
    }
}
