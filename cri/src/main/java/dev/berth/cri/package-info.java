/** A Kubernetes CRI server over Berth: {@link dev.berth.cri.CriServer}. */
package dev.berth.cri;
