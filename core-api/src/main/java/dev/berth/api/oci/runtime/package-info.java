/**
 * The OCI runtime-spec model: the {@code config.json} a runtime such as runc reads from a bundle, as
 * immutable records named after the spec's Go types ({@link dev.berth.api.oci.runtime.Spec},
 * {@link dev.berth.api.oci.runtime.Process}, {@link dev.berth.api.oci.runtime.Linux}, ...).
 *
 * <p>Conventions: record components carry OCI's JSON field names; absent scalars and nested objects are
 * {@code null}; lists and maps are never {@code null} (empty means absent); each record keeps the JSON
 * fields it does not model in {@code unknownFields()}. Large records have a {@code builder()} and
 * {@code toBuilder()}, every record has {@code with*} copies. Read and write JSON with
 * {@link dev.berth.api.oci.runtime.RuntimeSpecJson}; a spec with Berth's defaults and options comes from
 * the runtime module's {@code dev.berth.runtime.spec.SpecBuilder}.
 */
package dev.berth.api.oci.runtime;
