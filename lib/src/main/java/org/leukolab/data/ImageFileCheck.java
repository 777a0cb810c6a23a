package org.leukolab.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Looks at an image file's bytes, without decoding it, to tell what it really is: the format from its
 * signature (not its name), its size and channels from the header, and whether it ends as a complete
 * file of that format should. Catches the usual bad input of image datasets before any decoder sees
 * it: other files given an image extension (a macOS {@code .DS_Store} named {@code .jpg}), empty and
 * truncated files.
 */
public final class ImageFileCheck {
    /** Formats recognised by their signature. */
    public enum Format {
        JPEG, PNG, BMP, GIF, TIFF, WEBP, UNKNOWN,
        /** Not a file: pixels held in an array (a MedMNIST npz, arrays made in memory); see {@link ArrayImages}. */
        ARRAY
    }

    /** The file looks like a complete image file. */
    public static final String OK = "ok";

    /**
     * What was found. {@code problem} is null for a sound file, else says what is wrong in words;
     * width, height, channels and bitDepth are -1 where the header does not give them cheaply.
     */
    public record Result(Path file, Format format, String problem, int width, int height, int channels,
                         int bitDepth, long bytes) {
        public boolean ok() {
            return problem == null;
        }
    }

    private static final int TAIL = 1024;

    private ImageFileCheck() {}

    public static Result inspect(Path file) {
        long size;
        byte[] head = new byte[32];
        int n;
        try {
            size = Files.size(file);
            if (size == 0) {
                return new Result(file, Format.UNKNOWN, "empty file (0 bytes)", -1, -1, -1, -1, 0);
            }
            try (InputStream in = Files.newInputStream(file)) {
                n = in.readNBytes(head, 0, head.length);
            }
        } catch (IOException e) {
            return new Result(file, Format.UNKNOWN, "cannot be read: " + e.getMessage(), -1, -1, -1, -1, -1);
        }
        Format f = format(head, n);
        if (f == Format.UNKNOWN) {
            return new Result(file, f, "not an image: content starts with " + describeBytes(head, n)
                    + " (no JPEG, PNG, BMP, GIF, TIFF or WebP signature)", -1, -1, -1, -1, size);
        }
        try {
            return switch (f) {
                case JPEG -> jpeg(file, size);
                case PNG -> png(file, head, size);
                case BMP -> bmp(file, head, size);
                default -> new Result(file, f, null, -1, -1, -1, -1, size);
            };
        } catch (IOException e) {
            return new Result(file, f, "cannot be read: " + e.getMessage(), -1, -1, -1, -1, size);
        }
    }

    static Format format(byte[] h, int n) {
        if (n >= 3 && u(h[0]) == 0xFF && u(h[1]) == 0xD8 && u(h[2]) == 0xFF) {
            return Format.JPEG;
        }
        if (n >= 8 && u(h[0]) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G'
                && h[4] == 0x0D && h[5] == 0x0A && h[6] == 0x1A && h[7] == 0x0A) {
            return Format.PNG;
        }
        if (n >= 2 && h[0] == 'B' && h[1] == 'M') {
            return Format.BMP;
        }
        if (n >= 4 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F' && h[3] == '8') {
            return Format.GIF;
        }
        if (n >= 4 && ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0)
                || (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42))) {
            return Format.TIFF;
        }
        if (n >= 12 && h[0] == 'R' && h[1] == 'I' && h[2] == 'F' && h[3] == 'F'
                && h[8] == 'W' && h[9] == 'E' && h[10] == 'B' && h[11] == 'P') {
            return Format.WEBP;
        }
        return Format.UNKNOWN;
    }

    private static Result jpeg(Path file, long size) throws IOException {
        int w = -1, h = -1, c = -1, depth = -1;
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            in.skipBytes(2); // SOI
            while (true) {
                int b = in.readUnsignedByte();
                if (b != 0xFF) {
                    break; // not at a marker: give up on the header, the tail check still runs
                }
                int marker = in.readUnsignedByte();
                while (marker == 0xFF) {
                    marker = in.readUnsignedByte();
                }
                if (marker == 0xD9 || marker == 0xDA) {
                    break; // end of image or start of scan before any frame header
                }
                if (marker >= 0xD0 && marker <= 0xD7 || marker == 0x01) {
                    continue;
                }
                int len = in.readUnsignedShort();
                if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                    depth = in.readUnsignedByte();
                    h = in.readUnsignedShort();
                    w = in.readUnsignedShort();
                    c = in.readUnsignedByte();
                    break;
                }
                in.skipNBytes(len - 2);
            }
        } catch (EOFException e) {
            return new Result(file, Format.JPEG, "truncated: the file ends inside the JPEG header", -1, -1, -1, -1, size);
        }
        byte[] tail = tail(file, size);
        boolean eoi = false;
        for (int i = tail.length - 2; i >= 0; i--) {
            if (u(tail[i]) == 0xFF && u(tail[i + 1]) == 0xD9) {
                eoi = true;
                break;
            }
        }
        String problem = eoi ? null : "truncated: no JPEG end-of-image marker (FF D9) at the end of the file";
        return new Result(file, Format.JPEG, problem, w, h, c, depth, size);
    }

    private static Result png(Path file, byte[] head, long size) throws IOException {
        int w = -1, h = -1, c = -1, depth = -1;
        if (head.length >= 26 && head[12] == 'I' && head[13] == 'H' && head[14] == 'D' && head[15] == 'R') {
            w = be32(head, 16);
            h = be32(head, 20);
            depth = u(head[24]);
            c = switch (u(head[25])) {
                case 0 -> 1;
                case 2 -> 3;
                case 3 -> 3; // palette, expands to RGB
                case 4 -> 2;
                case 6 -> 4;
                default -> -1;
            };
        }
        String tail = new String(tail(file, size), StandardCharsets.ISO_8859_1);
        String problem = tail.contains("IEND") ? null : "truncated: no PNG IEND chunk at the end of the file";
        return new Result(file, Format.PNG, problem, w, h, c, depth, size);
    }

    private static Result bmp(Path file, byte[] head, long size) {
        if (head.length < 30) {
            return new Result(file, Format.BMP, "truncated: BMP header incomplete", -1, -1, -1, -1, size);
        }
        long declared = le32(head, 2) & 0xFFFFFFFFL;
        int w = le32(head, 18);
        int h = Math.abs(le32(head, 22));
        int bpp = (u(head[28]) | u(head[29]) << 8);
        String problem = declared > size ? "truncated: BMP header declares " + declared + " bytes, file has " + size : null;
        return new Result(file, Format.BMP, problem, w, h, bpp >= 24 ? bpp / 8 : 3, 8, size);
    }

    private static byte[] tail(Path file, long size) throws IOException {
        int len = (int) Math.min(TAIL, size);
        byte[] t = new byte[len];
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            raf.seek(size - len);
            raf.readFully(t);
        }
        return t;
    }

    static String describeBytes(byte[] h, int n) {
        StringBuilder hex = new StringBuilder();
        StringBuilder ascii = new StringBuilder();
        for (int i = 0; i < Math.min(n, 8); i++) {
            hex.append(String.format(Locale.ROOT, "%02X ", u(h[i])));
            ascii.append(h[i] >= 32 && h[i] < 127 ? (char) h[i] : '.');
        }
        return hex.toString().trim() + " (\"" + ascii + "\")";
    }

    private static int u(byte b) {
        return b & 0xFF;
    }

    private static int be32(byte[] b, int o) {
        return u(b[o]) << 24 | u(b[o + 1]) << 16 | u(b[o + 2]) << 8 | u(b[o + 3]);
    }

    private static int le32(byte[] b, int o) {
        return u(b[o]) | u(b[o + 1]) << 8 | u(b[o + 2]) << 16 | u(b[o + 3]) << 24;
    }
}
