package org.leukolab.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * What libjpeg says about a JPEG it can still decode, such as "Corrupt JPEG data: premature end of data segment" (the
 * scan data ends before the picture does; the rest comes out grey). OpenCV prints these lines to the process's
 * stderr, where nobody sees them against a file name; the JDK's own JPEG reader (also libjpeg) hands them to a
 * listener instead, so the loader can record them as data issues of the file. The check decodes the entropy-coded
 * data once more (subsampled, so little else is done); it runs only when an image is decoded, not when it comes from
 * the image cache.
 */
public final class JpegWarnings {
    private JpegWarnings() {}

    /** True for bytes that start like a JPEG file (FF D8 FF). */
    public static boolean isJpeg(byte[] bytes) {
        return bytes.length > 3 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xD8 && (bytes[2] & 0xFF) == 0xFF;
    }

    /** The decoder's warnings for a JPEG file's bytes, in order; empty when it decodes cleanly (or is not a JPEG). */
    public static List<String> of(byte[] bytes) {
        List<String> warnings = new ArrayList<>();
        if (!isJpeg(bytes)) {
            return warnings;
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return warnings;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, warning) -> {
                    if (!warnings.contains(warning)) {
                        warnings.add(warning);
                    }
                });
                ImageReadParam p = reader.getDefaultReadParam();
                p.setSourceSubsampling(8, 8, 0, 0);
                reader.read(0, p);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            // the JDK's reader refuses some JPEGs OpenCV reads (e.g. CMYK, arithmetic coding): no verdict, no warning
        }
        return warnings;
    }
}
