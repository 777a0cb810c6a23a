package org.leukolab.models.backbones;

/**
 * Which backbone layers stay fixed while training. {@link #all()} freezes the whole backbone (the
 * reports' feature-extraction setting); {@link #firstFraction(double)} freezes the first part of the
 * layers, as report 003 fine-tuned (e.g. the first 40%), optionally keeping every BatchNorm layer frozen
 * (its statistics and scale) as report 003 did. Frozen layers run in inference mode.
 */
public record Freeze(double fraction, boolean batchNormFrozen) {
    public Freeze {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be in [0, 1], got " + fraction);
        }
    }

    public static Freeze all() {
        return new Freeze(1.0, true);
    }

    public static Freeze none() {
        return new Freeze(0.0, false);
    }

    public static Freeze firstFraction(double fraction) {
        return new Freeze(fraction, false);
    }

    public Freeze keepBatchNormFrozen() {
        return new Freeze(fraction, true);
    }

    @Override
    public String toString() {
        if (fraction == 1.0) {
            return "whole backbone frozen";
        }
        return String.format(java.util.Locale.ROOT, "first %.0f%% of the backbone frozen%s", fraction * 100,
                batchNormFrozen ? ", all BatchNorm layers frozen" : "");
    }
}
