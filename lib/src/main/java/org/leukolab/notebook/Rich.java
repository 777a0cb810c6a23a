package org.leukolab.notebook;

import java.util.Map;

/**
 * Something that knows how to show itself in a notebook. The kernel start-up script registers a
 * renderer for this interface, so a cell that ends with such an object displays it richly.
 */
public interface Rich {
    /** MIME type to content; always includes {@code text/plain}. */
    Map<String, Object> mimeBundle();
}
