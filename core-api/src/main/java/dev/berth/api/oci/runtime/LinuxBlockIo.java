package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.berth.api.oci.runtime.internal.Unsigned;
import java.util.List;
import java.util.Map;

/**
 * Block IO cgroup limits (runtime-spec {@code LinuxBlockIO}).
 *
 * @param weight 10..1000
 * @param unknownFields JSON fields not modelled here
 */
public record LinuxBlockIo(Integer weight,
                           Integer leafWeight,
                           List<WeightDevice> weightDevice,
                           List<ThrottleDevice> throttleReadBpsDevice,
                           List<ThrottleDevice> throttleWriteBpsDevice,
                           @JsonProperty("throttleReadIOPSDevice") List<ThrottleDevice> throttleReadIopsDevice,
                           @JsonProperty("throttleWriteIOPSDevice") List<ThrottleDevice> throttleWriteIopsDevice,
                           @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
    public LinuxBlockIo {
        weightDevice = Copies.list(weightDevice);
        throttleReadBpsDevice = Copies.list(throttleReadBpsDevice);
        throttleWriteBpsDevice = Copies.list(throttleWriteBpsDevice);
        throttleReadIopsDevice = Copies.list(throttleReadIopsDevice);
        throttleWriteIopsDevice = Copies.list(throttleWriteIopsDevice);
        unknownFields = Copies.map(unknownFields);
    }

    /** A value with no unknown fields. */
    public LinuxBlockIo(Integer weight, Integer leafWeight, List<WeightDevice> weightDevice,
            List<ThrottleDevice> throttleReadBpsDevice, List<ThrottleDevice> throttleWriteBpsDevice,
            List<ThrottleDevice> throttleReadIopsDevice, List<ThrottleDevice> throttleWriteIopsDevice) {
        this(weight, leafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice, throttleReadIopsDevice,
                throttleWriteIopsDevice, null);
    }

    public LinuxBlockIo withWeight(Integer newWeight) {
        return new LinuxBlockIo(newWeight, leafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withLeafWeight(Integer newLeafWeight) {
        return new LinuxBlockIo(weight, newLeafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withWeightDevice(List<WeightDevice> newWeightDevice) {
        return new LinuxBlockIo(weight, leafWeight, newWeightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withThrottleReadBpsDevice(List<ThrottleDevice> newThrottleReadBpsDevice) {
        return new LinuxBlockIo(weight, leafWeight, weightDevice, newThrottleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withThrottleWriteBpsDevice(List<ThrottleDevice> newThrottleWriteBpsDevice) {
        return new LinuxBlockIo(weight, leafWeight, weightDevice, throttleReadBpsDevice, newThrottleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withThrottleReadIopsDevice(List<ThrottleDevice> newThrottleReadIopsDevice) {
        return new LinuxBlockIo(weight, leafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                newThrottleReadIopsDevice, throttleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withThrottleWriteIopsDevice(List<ThrottleDevice> newThrottleWriteIopsDevice) {
        return new LinuxBlockIo(weight, leafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, newThrottleWriteIopsDevice, unknownFields);
    }

    public LinuxBlockIo withUnknownFields(Map<String, Object> newUnknownFields) {
        return new LinuxBlockIo(weight, leafWeight, weightDevice, throttleReadBpsDevice, throttleWriteBpsDevice,
                throttleReadIopsDevice, throttleWriteIopsDevice, newUnknownFields);
    }

    /**
     * A per-device weight (runtime-spec {@code LinuxWeightDevice}).
     *
     * @param unknownFields JSON fields not modelled here
     */
    public record WeightDevice(long major,
                               long minor,
                               Integer weight,
                               Integer leafWeight,
                               @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
        public WeightDevice {
            unknownFields = Copies.map(unknownFields);
        }

        /** A value with no unknown fields. */
        public WeightDevice(long major, long minor, Integer weight, Integer leafWeight) {
            this(major, minor, weight, leafWeight, null);
        }

        public WeightDevice withMajor(long newMajor) {
            return new WeightDevice(newMajor, minor, weight, leafWeight, unknownFields);
        }

        public WeightDevice withMinor(long newMinor) {
            return new WeightDevice(major, newMinor, weight, leafWeight, unknownFields);
        }

        public WeightDevice withWeight(Integer newWeight) {
            return new WeightDevice(major, minor, newWeight, leafWeight, unknownFields);
        }

        public WeightDevice withLeafWeight(Integer newLeafWeight) {
            return new WeightDevice(major, minor, weight, newLeafWeight, unknownFields);
        }

        public WeightDevice withUnknownFields(Map<String, Object> newUnknownFields) {
            return new WeightDevice(major, minor, weight, leafWeight, newUnknownFields);
        }
    }

    /**
     * A per-device rate limit (runtime-spec {@code LinuxThrottleDevice}).
     *
     * @param rate bytes or operations per second
     * @param unknownFields JSON fields not modelled here
     */
    public record ThrottleDevice(long major,
                                 long minor,
                                 @Unsigned long rate,
                                 @JsonAnySetter @JsonAnyGetter Map<String, Object> unknownFields) {
        public ThrottleDevice {
            unknownFields = Copies.map(unknownFields);
        }

        /** A value with no unknown fields. */
        public ThrottleDevice(long major, long minor, long rate) {
            this(major, minor, rate, null);
        }

        public ThrottleDevice withMajor(long newMajor) {
            return new ThrottleDevice(newMajor, minor, rate, unknownFields);
        }

        public ThrottleDevice withMinor(long newMinor) {
            return new ThrottleDevice(major, newMinor, rate, unknownFields);
        }

        public ThrottleDevice withRate(long newRate) {
            return new ThrottleDevice(major, minor, newRate, unknownFields);
        }

        public ThrottleDevice withUnknownFields(Map<String, Object> newUnknownFields) {
            return new ThrottleDevice(major, minor, rate, newUnknownFields);
        }
    }
}
