package org.bpcert.bridge;

import java.io.InputStream;
import java.io.PrintStream;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.ResponseCache;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TimeZone;

/**
 * The JVM-wide state as it was before a plugin instance ran, so that a reused JVM serves
 * the next instance as a fresh one would.
 *
 * <p>{@link #restore()} puts back what a plugin may change and the bridge can undo: the
 * system properties, the default time zone and locale, {@code System.in/out/err}, the
 * default uncaught-exception handler, proxy selector, cookie handler, response cache and
 * authenticator, and the thread's context class loader. {@link #leftovers()} names what it
 * cannot undo: a thread the plugin started that still runs, or a security manager. Then the
 * JVM serves no other instance and exits after {@code shutdown}, as it always did.
 */
final class Baseline {
    private final Set<Thread> threads;
    private final ThreadGroup main;
    private final Properties properties;
    private final TimeZone zone;
    private final Locale locale;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Thread.UncaughtExceptionHandler uncaught;
    private final ProxySelector proxies;
    private final CookieHandler cookies;
    private final ResponseCache responses;
    private final Authenticator authenticator;
    private final ClassLoader context;

    /** The state now (call it once the bridge has set up its streams). */
    Baseline() {
        threads = Thread.getAllStackTraces().keySet();
        main = Thread.currentThread().getThreadGroup();
        properties = (Properties) System.getProperties().clone();
        zone = TimeZone.getDefault();
        locale = Locale.getDefault();
        in = System.in;
        out = System.out;
        err = System.err;
        uncaught = Thread.getDefaultUncaughtExceptionHandler();
        proxies = ProxySelector.getDefault();
        cookies = CookieHandler.getDefault();
        responses = ResponseCache.getDefault();
        authenticator = Authenticator.getDefault();
        context = Thread.currentThread().getContextClassLoader();
    }

    /**
     * What an instance left that {@link #restore()} cannot undo, empty when none: threads
     * started from the plugin's thread group that still run (the JDK's own, in the system
     * group, are not the plugin's), and a security manager.
     */
    @SuppressWarnings("removal")
    List<String> leftovers() {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            ThreadGroup group = t.getThreadGroup();
            if (t.isAlive() && !threads.contains(t) && group != null && within(group)) {
                out.add("thread '" + t.getName() + "' still runs");
            }
        }
        if (System.getSecurityManager() != null) {
            out.add("a security manager is installed");
        }
        return out;
    }

    private boolean within(final ThreadGroup group) {
        for (ThreadGroup g = group; g != null; g = g.getParent()) {
            if (g == main) {
                return true;
            }
        }
        return false;
    }

    /** Puts back the state the bridge can undo. */
    void restore() {
        System.setProperties((Properties) properties.clone());
        TimeZone.setDefault(zone);
        Locale.setDefault(locale);
        System.setIn(in);
        System.setOut(out);
        System.setErr(err);
        Thread.setDefaultUncaughtExceptionHandler(uncaught);
        ProxySelector.setDefault(proxies);
        CookieHandler.setDefault(cookies);
        ResponseCache.setDefault(responses);
        Authenticator.setDefault(authenticator);
        Thread.currentThread().setContextClassLoader(context);
    }
}
