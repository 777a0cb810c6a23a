package org.leukolab.notebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CheckTest {
    @Test
    void aFailedCheckStopsWithBothValues() {
        assertEquals(87_245L, Check.equal("parameters", 87_245L, 87_245L));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Check.equal("parameters", 87_246L, 87_245L));
        assertTrue(e.getMessage().contains("87,246") && e.getMessage().contains("87,245"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Check.that(false, "the split has 5,059 images"));
        assertThrows(IllegalStateException.class, () -> Check.near("accuracy", 0.5, 0.9, 0.1));
        Check.near("accuracy", 0.85, 0.9, 0.1);
    }
}
