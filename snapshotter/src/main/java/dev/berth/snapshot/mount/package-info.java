/**
 * Performing {@link dev.berth.api.Mount}s in this process: mount(2), umount2(2) and, for overlays with
 * more lower directories than one page of options holds, the new mount API.
 */
package dev.berth.snapshot.mount;
