/**
 * The in-process event exchange ({@link dev.berth.events.EventExchange}), Berth's implementation of
 * {@link dev.berth.api.event.Events}: topic validation as containerd's, containerd's filter language over
 * envelopes, and a bounded, ordered queue per subscriber so publishers never wait.
 */
package dev.berth.events;
