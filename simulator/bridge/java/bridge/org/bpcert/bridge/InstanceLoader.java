package org.bpcert.bridge;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The class loader of one plugin instance: the plugin's {@code jar:} entries, then bpcert's
 * API and backend jars, over the JDK, as a component's web application loads a plugin in
 * Abiquo. Every instance gets a new one, so nothing a plugin keeps in its classes' static
 * fields reaches the next instance a reused JVM serves. The bridge's own package ({@code
 * org.bpcert.bridge}, which the backend client calls) comes from the bridge.
 *
 * <p>The entries are the system property {@code bpcert.plugin.classpath}, separated by the
 * platform's path separator; without it the plugin is on the JVM's classpath and is served
 * by the system class loader, one instance per JVM.
 */
final class InstanceLoader extends URLClassLoader {
    static final String CLASSPATH_PROPERTY = "bpcert.plugin.classpath";
    private static final String BRIDGE_PACKAGE = "org.bpcert.bridge.";
    private static final String BRIDGE_RESOURCES = "org/bpcert/bridge/";
    private static final ClassLoader BRIDGE = InstanceLoader.class.getClassLoader();

    private InstanceLoader(final URL[] urls) {
        // Unnamed: a named loader would prefix every stack frame of the evidence with its name.
        super(urls, ClassLoader.getPlatformClassLoader());
    }

    /** Whether plugin instances get a loader of their own (the classpath property is set). */
    static boolean configured() {
        return System.getProperty(CLASSPATH_PROPERTY) != null;
    }

    /** A new loader of the configured entries, or null when there are none. */
    static InstanceLoader open() {
        String path = System.getProperty(CLASSPATH_PROPERTY);
        if (path == null) {
            return null;
        }
        List<URL> urls = new ArrayList<>();
        for (String entry : path.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            try {
                urls.add(Paths.get(entry).toUri().toURL());
            } catch (MalformedURLException ex) {
                throw new IllegalArgumentException("bad " + CLASSPATH_PROPERTY + " entry " + entry, ex);
            }
        }
        return new InstanceLoader(urls.toArray(new URL[0]));
    }

    @Override
    protected Class<?> loadClass(final String name, final boolean resolve)
        throws ClassNotFoundException {
        if (name.startsWith(BRIDGE_PACKAGE)) {
            return BRIDGE.loadClass(name);
        }
        return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(final String name) {
        if (name.startsWith(BRIDGE_RESOURCES)) {
            return BRIDGE.getResource(name);
        }
        return super.getResource(name);
    }
}
