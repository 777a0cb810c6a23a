package org.leukolab.preprocessing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.leukolab.data.ImageTransform;

/** The library's image transforms rebuilt from their ids ({@link ImageTransform#id()}), for saved models. */
public final class ImageTransforms {
    private static final Pattern CROP = Pattern.compile("contour-crop-v1-(report|clamped)");
    private static final Pattern JPEG = Pattern.compile("jpeg-roundtrip-q(\\d+)");

    private ImageTransforms() {}

    /** The transform with this id; an error naming the id for one the library does not make. */
    public static ImageTransform fromId(String id) {
        Matcher m = CROP.matcher(id);
        if (m.matches()) {
            return new ContourCropper(ContourCropper.Mode.valueOf(m.group(1).toUpperCase(java.util.Locale.ROOT)));
        }
        m = JPEG.matcher(id);
        if (m.matches()) {
            return new JpegRoundTrip(Integer.parseInt(m.group(1)));
        }
        throw new IllegalArgumentException("the image transform '" + id + "' is not one the library can rebuild "
                + "(contour-crop-v1-report|clamped, jpeg-roundtrip-qNN)");
    }
}
