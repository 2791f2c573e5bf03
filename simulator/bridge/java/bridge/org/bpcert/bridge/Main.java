package org.bpcert.bridge;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The bpcert JVM bridge: serves a Java backup plugin over the JSON-RPC protocol of
 * docs/protocol.md on stdin/stdout, one plugin instance per process, as each Abiquo
 * component loads its own.
 *
 * <pre>
 * java -cp bpcert-bridge.jar -Dbpcert.plugin.classpath=PLUGIN.jar:...:abiquo-api.jar:bpcert-backend.jar \
 *     org.bpcert.bridge.Main [--reuse]
 * java -cp ... org.bpcert.bridge.Main --check     (diagnose the artifact, print one JSON line)
 * </pre>
 *
 * <p>Every instance is loaded by a class loader of its own ({@link InstanceLoader}). With
 * {@code --reuse}, {@code shutdown} ends the instance, not the JVM: its loader, connections
 * and the JVM-wide state it changed are dropped or put back ({@link Baseline}), the bridge
 * prints {@link #READY} to stderr and answers {@code {"reused": true}}, and the next {@code
 * initialize} builds a new instance from a new loader. When the instance left something
 * that cannot be undone (a running thread), or served {@link #MAX_INSTANCES} instances, it
 * answers null and exits as without {@code --reuse}.
 *
 * <p>{@code initialize} writes the properties to a file and points the system property
 * {@code abiquo.backup.TYPE.config.path} at it, then builds the plugin through {@link
 * java.util.ServiceLoader}. {@code connect} builds the plugin's connection class and calls
 * {@code connect(ConnectionData)}; operations carry its id; {@code disconnect} calls {@code
 * disconnect()}. An exception is answered under its own name: {@code BackupPluginException}
 * with its code, {@code ComputeException} from connect as PluginConnectionError, {@code
 * IllegalStateException} from validateConfiguration as ConfigurationError; anything else
 * with its stack trace, also printed to stderr, which the harness keeps.
 */
public final class Main {
    private static final int INVALID_REQUEST = -32600;
    private static final int METHOD_NOT_FOUND = -32601;
    private static final int INTERNAL_ERROR = -32603;
    private static final int PLUGIN_EXCEPTION = -32000;
    private static final int STACK_FRAMES = 12;

    /** The stderr line that ends a reused JVM's instance: what follows is the next one's. */
    static final String READY = "bpcert bridge: ready for a new plugin instance";
    /** How many instances one JVM serves at most (bounds what leaks, such as class loaders). */
    static final int MAX_INSTANCES = 64;

    private final boolean reuse;
    private final Baseline baseline;
    private final Map<String, Object> connections = new HashMap<>();
    private PluginHost host;
    private InstanceLoader loader;
    private Object plugin;
    private long connectionNumbers;
    private int instances;
    private Path propertiesFile;

    private Main(final boolean reuse) {
        this.reuse = reuse && InstanceLoader.configured();
        this.baseline = new Baseline();
    }

    /** Serves the protocol, or with {@code --check} diagnoses the artifact and exits. */
    public static void main(final String[] args) throws IOException {
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        Channel.open(System.in, stdout);
        if (args.length > 0 && args[0].equals("--check")) {
            stdout.write((Json.write(check()) + "\n").getBytes(StandardCharsets.UTF_8));
            stdout.flush();
            System.exit(0);
        }
        new Main(Arrays.asList(args).contains("--reuse")).serve();
        System.exit(0);
    }

    private static Map<String, Object> check() {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            InstanceLoader loader = InstanceLoader.open();
            PluginHost host = PluginHost.load(
                loader != null ? loader : ClassLoader.getSystemClassLoader());
            List<String> problems = host.deepProblems();
            out.put("ok", problems.isEmpty());
            out.put("plugin", host.pluginClass.getName());
            out.put("connection", host.connectionClass.getName());
            out.put("profiles", host.profiles);
            out.put("problems", problems);
        } catch (PluginHost.ArtifactError ex) {
            out.put("ok", false);
            List<String> problems = new ArrayList<>();
            problems.add(ex.getMessage());
            out.put("problems", problems);
        }
        return out;
    }

    private void serve() throws IOException {
        while (true) {
            String line = Channel.readLine();
            if (line == null) {
                return;
            }
            if (line.trim().isEmpty()) {
                continue;
            }
            Object parsed;
            try {
                parsed = Json.parse(line);
            } catch (IllegalArgumentException ex) {
                Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("id", null);
                answer.put("error", error(-32700, "parse error: " + ex.getMessage(), null));
                Channel.send(answer);
                continue;
            }
            if (!(parsed instanceof Map) || !((Map<?, ?>) parsed).containsKey("method")
                || !((Map<?, ?>) parsed).containsKey("id")) {
                System.err.println("bpcert bridge: ignored " + line);
                continue;
            }
            Map<?, ?> request = (Map<?, ?>) parsed;
            String method = String.valueOf(request.get("method"));
            Object rawParams = request.get("params");
            Map<?, ?> params = rawParams instanceof Map ? (Map<?, ?>) rawParams : new HashMap<>();
            Object now = params.get("now");
            if (now instanceof String) {
                Channel.setNow(OffsetDateTime.parse((String) now).toZonedDateTime());
            }
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("id", request.get("id"));
            if (method.equals("shutdown")) {
                boolean again = endInstance();
                answer.put("result", again ? READY_ANSWER : null);
                Channel.send(answer);
                if (again) {
                    continue;
                }
                return;
            }
            try {
                answer.put("result", handle(method, params));
            } catch (Failure failure) {
                answer.put("error", failure.error);
            }
            Channel.send(answer);
        }
    }

    private static final Map<String, Object> READY_ANSWER =
        Collections.singletonMap("reused", Boolean.TRUE);

    /**
     * Ends the current instance; true when this JVM will serve another (with {@code
     * --reuse}, nothing left behind that cannot be undone, fewer than {@link
     * #MAX_INSTANCES} served). Then {@link #READY} is on stderr before the answer.
     */
    private boolean endInstance() {
        if (!reuse) {
            return false;
        }
        List<String> leftovers = baseline.leftovers();
        connections.clear();
        connectionNumbers = 0;
        plugin = null;
        host = null;
        closeLoader();
        if (propertiesFile != null) {
            try {
                Files.deleteIfExists(propertiesFile);
            } catch (IOException ex) {
                System.err.println("bpcert bridge: could not delete " + propertiesFile + ": " + ex);
            }
            propertiesFile = null;
        }
        Beans.forget();
        Channel.reset();
        baseline.restore();
        if (!leftovers.isEmpty()) {
            System.err.println("bpcert bridge: this JVM serves no other instance: "
                + String.join("; ", leftovers));
            return false;
        }
        if (++instances >= MAX_INSTANCES) {
            return false;
        }
        System.out.flush();
        // A line of its own, even after a plugin's print without a newline.
        System.err.println();
        System.err.println(READY);
        System.err.flush();
        return true;
    }

    private void closeLoader() {
        if (loader != null) {
            try {
                loader.close();
            } catch (IOException ex) {
                System.err.println("bpcert bridge: could not close the plugin's class loader: " + ex);
            }
            loader = null;
        }
    }

    /** The instance's plugin as Abiquo finds it, loaded by a new class loader. */
    private PluginHost host() throws Failure {
        if (host == null) {
            loader = InstanceLoader.open();
            try {
                host = PluginHost.load(loader != null ? loader : ClassLoader.getSystemClassLoader());
            } catch (PluginHost.ArtifactError ex) {
                closeLoader();
                System.err.println("bpcert bridge: " + ex.getMessage());
                throw new Failure(error(INVALID_REQUEST, ex.getMessage(), null));
            }
            if (loader != null) {
                // As a web application's threads see their own classes (ServiceLoader, JAXB).
                Thread.currentThread().setContextClassLoader(loader);
            }
        }
        return host;
    }

    /** An error answer. */
    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final Map<String, Object> error;

        Failure(final Map<String, Object> error) {
            super(String.valueOf(error.get("message")));
            this.error = error;
        }
    }

    private static Map<String, Object> error(final int code, final String message,
        final Map<String, Object> data) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("code", code);
        out.put("message", message);
        if (data != null) {
            out.put("data", data);
        }
        return out;
    }

    private Object handle(final String method, final Map<?, ?> params) throws Failure {
        if (method.equals("initialize")) {
            return initialize(params);
        }
        if (plugin == null) {
            throw new Failure(error(INVALID_REQUEST, "send initialize first", null));
        }
        switch (method) {
            case "validateConfiguration":
                invoke(method, () -> {
                    Method validate = plugin.getClass().getMethod("validateConfiguration");
                    validate.setAccessible(true);
                    return validate.invoke(plugin);
                });
                return null;
            case "connect":
                return connect(params);
            case "disconnect":
                return disconnect(params);
            default:
                return operation(method, params);
        }
    }

    private Object initialize(final Map<?, ?> params) throws Failure {
        host();
        Object given = params.get("properties");
        Properties properties = new Properties();
        if (given instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) given).entrySet()) {
                properties.setProperty(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        }
        try {
            Path file = Files.createTempFile("bpcert-" + host.type() + "-", ".properties");
            file.toFile().deleteOnExit();
            propertiesFile = file;
            try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                properties.store(writer, "written by bpcert for this plugin process");
            }
            // Where Abiquo tells a backup plugin its configuration file is.
            System.setProperty("abiquo.backup." + host.type() + ".config.path", file.toString());
        } catch (IOException ex) {
            throw new Failure(error(INTERNAL_ERROR, "cannot write the properties file: " + ex, null));
        }
        Object component = params.get("component");
        System.setProperty("bpcert.component", String.valueOf(component));
        plugin = invoke("initialize", () -> host.provider.get());
        return host.describe();
    }

    private Object connect(final Map<?, ?> params) throws Failure {
        Object connection = invoke("connect", () -> {
            java.lang.reflect.Constructor<?> constructor =
                host.connectionClass.getDeclaredConstructor();
            constructor.setAccessible(true);
            return constructor.newInstance();
        });
        invoke("connect", () -> {
            Method connect = connectMethod(connection.getClass());
            Object data = Beans.fromJson(params.get("connection_data"),
                connect.getGenericParameterTypes()[0], "ConnectionData", "connection_data");
            return connect.invoke(connection, data);
        });
        String id = "c" + ++connectionNumbers;
        connections.put(id, connection);
        return id;
    }

    private static Method connectMethod(final Class<?> cls) throws NoSuchMethodException {
        for (Method m : cls.getMethods()) {
            if (m.getName().equals("connect") && m.getParameterCount() == 1 && !m.isBridge()) {
                m.setAccessible(true);
                return m;
            }
        }
        throw new NoSuchMethodException(cls.getName() + ".connect(ConnectionData)");
    }

    private Object disconnect(final Map<?, ?> params) throws Failure {
        Object connection = connections.remove(String.valueOf(params.get("connection")));
        if (connection != null) {
            invoke("disconnect", () -> {
                Method disconnect = connection.getClass().getMethod("disconnect");
                disconnect.setAccessible(true);
                return disconnect.invoke(connection);
            });
        }
        return null;
    }

    private Object operation(final String method, final Map<?, ?> params) throws Failure {
        Method target = host.methods.get(method);
        Wire.Method wire = Wire.METHODS.get(method);
        if (wire == null) {
            throw new Failure(error(METHOD_NOT_FOUND, "no method " + method, null));
        }
        if (target == null) {
            // As a Python plugin's contract defaults do: an operation it lacks is UNSUPPORTED.
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("exception", "BackupPluginException");
            data.put("code", "UNSUPPORTED");
            data.put("message", host.pluginClass.getName() + " has no " + method + " (it implements "
                + String.join(", ", host.profiles) + ")");
            throw new Failure(error(PLUGIN_EXCEPTION, "BackupPluginException: " + data.get("message"),
                data));
        }
        Object connection = connections.get(String.valueOf(params.get("connection")));
        if (connection == null) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("exception", "BackupPluginException");
            data.put("code", "CONNECTION");
            data.put("message", "no open connection " + params.get("connection"));
            throw new Failure(error(PLUGIN_EXCEPTION, "no open connection", data));
        }
        Type[] types = target.getGenericParameterTypes();
        Object[] args = new Object[types.length];
        args[0] = connection;
        for (int i = 0; i < wire.params.size(); i++) {
            String name = wire.params.get(i);
            try {
                args[i + 1] = Beans.fromJson(params.get(name), types[i + 1],
                    wire.paramModels.get(i), name);
            } catch (Beans.MappingError | java.time.DateTimeException ex) {
                throw new Failure(error(INTERNAL_ERROR, "bpcert bridge: cannot map " + name + " to "
                    + types[i + 1].getTypeName() + ": " + ex.getMessage(), null));
            }
        }
        Object result = invoke(method, () -> target.invoke(plugin, args));
        if (wire.returnsNothing) {
            return null;
        }
        try {
            return Beans.toJson(result, wire.resultModel, "result");
        } catch (Beans.MappingError ex) {
            throw new Failure(error(INTERNAL_ERROR, "bpcert bridge: cannot map what "
                + target.getName() + " returned: " + ex.getMessage(), null));
        }
    }

    /** A reflective call whose plugin exception becomes the answer docs/protocol.md §7 wants. */
    private interface Call {
        Object run() throws Exception;
    }

    private Object invoke(final String method, final Call call) throws Failure {
        try {
            return call.run();
        } catch (InvocationTargetException ex) {
            throw new Failure(pluginError(method, ex.getCause()));
        } catch (java.util.ServiceConfigurationError ex) {
            throw new Failure(pluginError(method, ex.getCause() != null ? ex.getCause() : ex));
        } catch (Failure ex) {
            throw ex;
        } catch (Exception | LinkageError ex) {
            throw new Failure(pluginError(method, ex));
        }
    }

    private static Map<String, Object> pluginError(final String method, final Throwable thrown) {
        Throwable t = thrown;
        if (t instanceof ExceptionInInitializerError && t.getCause() != null) {
            t = t.getCause();
        }
        String name = t.getClass().getName();
        String message = t.getMessage() == null ? "" : t.getMessage();
        Map<String, Object> data = new LinkedHashMap<>();
        if (name.endsWith(".BackupPluginException")) {
            data.put("exception", "BackupPluginException");
            data.put("code", errorCode(t));
            data.put("message", message);
        } else if (method.equals("connect") && name.endsWith(".ComputeException")) {
            data.put("exception", "PluginConnectionError");
            data.put("code", "CONNECTION");
            data.put("message", message);
        } else if (method.equals("validateConfiguration") && t instanceof IllegalStateException) {
            data.put("exception", "ConfigurationError");
            data.put("message", message);
        } else {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            System.err.println("bpcert bridge: " + method + " threw " + trace);
            data.put("exception", name);
            data.put("message", message + shortTrace(t));
        }
        return error(PLUGIN_EXCEPTION, data.get("exception") + ": " + data.get("message"), data);
    }

    private static String errorCode(final Throwable t) {
        for (String getter : new String[] {"getError", "getCode", "getBackupPluginError"}) {
            try {
                Method m = t.getClass().getMethod(getter);
                Object code = m.invoke(t);
                if (code instanceof Enum) {
                    return ((Enum<?>) code).name();
                }
                if (code != null) {
                    return String.valueOf(code);
                }
            } catch (ReflectiveOperationException ex) {
                // try the next accessor
            }
        }
        return null;
    }

    /** The first frames of a stack trace, for the report's evidence. */
    private static String shortTrace(final Throwable t) {
        StringBuilder out = new StringBuilder();
        StackTraceElement[] frames = t.getStackTrace();
        for (int i = 0; i < frames.length && i < STACK_FRAMES; i++) {
            String frame = frames[i].toString();
            if (frame.startsWith("java.base/jdk.internal.reflect")
                || frame.startsWith("org.bpcert.bridge.")) {
                break;
            }
            out.append("\n\tat ").append(frame);
        }
        if (t.getCause() != null) {
            out.append("\nCaused by: ").append(t.getCause());
        }
        return out.toString();
    }
}
