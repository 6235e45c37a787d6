package dev.berth.api.snapshot;

/** Disk usage of one snapshot layer: inodes and bytes. */
public record Usage(long inodes, long size) {
}
