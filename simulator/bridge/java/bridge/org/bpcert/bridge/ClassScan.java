package org.bpcert.bridge;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads class files (their constant pool and member descriptors) to find, before any call,
 * the classes a plugin needs that are not on the classpath, and class files newer than
 * this JVM. Loading alone would find them only when a method first runs.
 */
final class ClassScan {
    private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L([^;<>]+);");

    private ClassScan() {
    }

    /** A class file's version and the classes it refers to (binary names, dotted). */
    static final class ClassInfo {
        final int major;
        final Set<String> references;

        ClassInfo(final int major, final Set<String> references) {
            this.major = major;
            this.references = references;
        }
    }

    /** The class file version a JVM of this feature release reads at most. */
    static int supportedMajor() {
        return Runtime.version().feature() + 44;
    }

    static String javaRelease(final int major) {
        return major >= 49 ? "Java " + (major - 44) : "class file version " + major;
    }

    static ClassInfo read(final InputStream stream) throws IOException {
        DataInputStream data = new DataInputStream(stream);
        if (data.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        data.readUnsignedShort();
        int major = data.readUnsignedShort();
        int count = data.readUnsignedShort();
        String[] utf8 = new String[count];
        List<Integer> classIndexes = new ArrayList<>();
        List<Integer> descriptorIndexes = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int tag = data.readUnsignedByte();
            switch (tag) {
                case 1:
                    utf8[i] = data.readUTF();
                    break;
                case 7:
                    classIndexes.add(data.readUnsignedShort());
                    break;
                case 8:
                case 19:
                case 20:
                    data.readUnsignedShort();
                    break;
                case 16:
                    descriptorIndexes.add(data.readUnsignedShort());
                    break;
                case 3:
                case 4:
                case 9:
                case 10:
                case 11:
                case 17:
                case 18:
                    data.readInt();
                    break;
                case 12:
                    data.readUnsignedShort();
                    descriptorIndexes.add(data.readUnsignedShort());
                    break;
                case 5:
                case 6:
                    data.readLong();
                    i++;
                    break;
                case 15:
                    data.readUnsignedByte();
                    data.readUnsignedShort();
                    break;
                default:
                    throw new IOException("unknown constant pool tag " + tag);
            }
        }
        data.readUnsignedShort(); // access flags
        data.readUnsignedShort(); // this class
        data.readUnsignedShort(); // super class
        int interfaces = data.readUnsignedShort();
        for (int i = 0; i < interfaces; i++) {
            data.readUnsignedShort();
        }
        for (int members = 0; members < 2; members++) { // fields, then methods
            int n = data.readUnsignedShort();
            for (int i = 0; i < n; i++) {
                data.readUnsignedShort();
                data.readUnsignedShort();
                descriptorIndexes.add(data.readUnsignedShort());
                int attributes = data.readUnsignedShort();
                for (int a = 0; a < attributes; a++) {
                    data.readUnsignedShort();
                    skip(data, data.readInt());
                }
            }
        }
        Set<String> references = new LinkedHashSet<>();
        for (int index : classIndexes) {
            String name = utf8[index];
            if (name == null) {
                continue;
            }
            if (name.startsWith("[")) {
                addDescriptor(name, references);
            } else {
                references.add(name.replace('/', '.'));
            }
        }
        for (int index : descriptorIndexes) {
            if (utf8[index] != null) {
                addDescriptor(utf8[index], references);
            }
        }
        return new ClassInfo(major, references);
    }

    private static void skip(final DataInputStream data, final int length) throws IOException {
        int left = length;
        while (left > 0) {
            int skipped = data.skipBytes(left);
            if (skipped <= 0) {
                throw new IOException("truncated class file");
            }
            left -= skipped;
        }
    }

    private static void addDescriptor(final String descriptor, final Set<String> into) {
        Matcher m = DESCRIPTOR_CLASS.matcher(descriptor);
        while (m.find()) {
            into.add(m.group(1).replace('/', '.'));
        }
    }

    /**
     * Problems found in the classes reachable from {@code roots} within the plugin's own
     * package prefix (its first two package names): classes too new for this JVM, and
     * referenced classes that cannot be found. Classes outside the prefix (the JDK, the
     * Abiquo API, libraries) are checked for presence but not scanned further.
     */
    static List<String> problems(final ClassLoader loader, final List<Class<?>> roots) {
        String prefix = prefixOf(roots.get(0).getName());
        Map<String, String> missing = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> queue = new ArrayDeque<>();
        for (Class<?> root : roots) {
            queue.add(root.getName());
        }
        Set<String> present = new LinkedHashSet<>();
        while (!queue.isEmpty()) {
            String name = queue.poll();
            if (!seen.add(name)) {
                continue;
            }
            ClassInfo info;
            try (InputStream stream = loader.getResourceAsStream(name.replace('.', '/') + ".class")) {
                if (stream == null) {
                    continue;
                }
                info = read(stream);
            } catch (IOException ex) {
                problems.add(name + ": unreadable class file (" + ex.getMessage() + ")");
                continue;
            }
            if (info.major > supportedMajor()) {
                problems.add(name + " was compiled for " + javaRelease(info.major)
                    + " (class file version " + info.major + "), newer than this JVM, "
                    + javaRelease(supportedMajor()) + ": compile it with --release "
                    + Runtime.version().feature() + " or lower, or run bpcert with a newer JDK");
                continue;
            }
            for (String ref : info.references) {
                if (present.contains(ref) || missing.containsKey(ref)) {
                    continue;
                }
                if (loader.getResource(ref.replace('.', '/') + ".class") == null
                    && !isPlatformClass(ref)) {
                    missing.put(ref, name);
                    continue;
                }
                present.add(ref);
                if (ref.startsWith(prefix)) {
                    queue.add(ref);
                }
            }
        }
        for (Map.Entry<String, String> e : missing.entrySet()) {
            problems.add("missing dependency class " + e.getKey() + " (needed by " + e.getValue()
                + "): put the jar or directory that has it on the plugin's path, after the plugin"
                + " jar (jar:plugin.jar:dependency.jar)");
        }
        return problems;
    }

    private static boolean isPlatformClass(final String name) {
        try {
            Class.forName(name, false, ClassLoader.getPlatformClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError ex) {
            return false;
        }
    }

    private static String prefixOf(final String className) {
        String[] parts = className.split("\\.");
        if (parts.length <= 2) {
            return parts.length == 2 ? parts[0] + "." : className;
        }
        return parts[0] + "." + parts[1] + ".";
    }
}
