package org.leukolab.system;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class SeededArraysTest {
    @Test
    void theSameSeedGivesTheSameValuesAnotherSeedOthers() {
        INDArray a = SeededArrays.uniform(DataType.FLOAT, 7, 2, 3, 4);
        INDArray b = SeededArrays.uniform(DataType.FLOAT, 7, 2, 3, 4);
        INDArray c = SeededArrays.uniform(DataType.FLOAT, 8, 2, 3, 4);
        assertArrayEquals(new long[] {2, 3, 4}, a.shape());
        assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(a.data().asFloat(), b.data().asFloat());
        assertNotEquals(java.util.Arrays.toString(a.data().asFloat()), java.util.Arrays.toString(c.data().asFloat()));
        assertTrue(a.minNumber().doubleValue() >= 0 && a.maxNumber().doubleValue() < 1);
    }
}
