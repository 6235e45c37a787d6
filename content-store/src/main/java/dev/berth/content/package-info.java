/**
 * Berth's content store: {@link dev.berth.content.LocalContentStore}, a
 * {@link dev.berth.api.content.ContentStore} in a directory laid out exactly as containerd's local store,
 * safe to share between threads and processes and crash-safe at every step; and
 * {@link dev.berth.content.Content}, containerd's helpers for writing whole blobs (waiting out other
 * writers, resuming interrupted ingests) and reading small ones back verified.
 */
package dev.berth.content;
