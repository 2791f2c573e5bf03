package org.bpcert.bridge;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * The plugin as Abiquo finds it: the class named by {@code META-INF/services/
 * com.abiquo.backup.plugin.BackupScheduling} (through {@link ServiceLoader}), its
 * connection class, its annotations, and the Java method behind each wire method of the
 * profiles it implements. Every reason it cannot be used is an {@link ArtifactError}.
 */
final class PluginHost {
    static final String SERVICE = "com.abiquo.backup.plugin.BackupScheduling";
    static final String SERVICES_FILE = "META-INF/services/" + SERVICE;
    static final String ICONNECTION = "com.abiquo.commons.plugin.IConnection";
    static final String PLUGIN_METADATA = "com.abiquo.commons.plugin.annotation.PluginMetadata";
    static final String CONNECTION_METADATA =
        "com.abiquo.backup.plugin.annotation.BackupConnectionMetadata";
    static final String UNSUPPORTED = "com.abiquo.hypervisor.plugin.UnsupportedOperation";
    /** A bpcert addition: a complete properties file used when the user gives none. */
    static final String EXAMPLE_PROPERTIES = "META-INF/bpcert/example.properties";

    /** A plugin artifact that cannot be used; the message names the cause. */
    static final class ArtifactError extends Exception {
        private static final long serialVersionUID = 1L;

        ArtifactError(final String message) {
            super(message);
        }
    }

    final ClassLoader loader;
    final ServiceLoader.Provider<?> provider;
    final Class<?> pluginClass;
    final Class<?> connectionClass;
    final List<String> profiles;
    /** Wire method name -> the plugin's Java method. */
    final Map<String, Method> methods;

    private PluginHost(final ClassLoader loader, final ServiceLoader.Provider<?> provider,
        final Class<?> connectionClass, final List<String> profiles,
        final Map<String, Method> methods) {
        this.loader = loader;
        this.provider = provider;
        this.pluginClass = provider.type();
        this.connectionClass = connectionClass;
        this.profiles = profiles;
        this.methods = methods;
    }

    /** Where the plugin came from, for messages: the user's {@code jar:} entries. */
    static String pluginPath() {
        return System.getProperty("bpcert.plugin.path", "the classpath");
    }

    /** The plugin that {@code loader} finds through the services file. */
    static PluginHost load(final ClassLoader loader) throws ArtifactError {
        Class<?> service = find(SERVICE, loader, "the Abiquo API");
        Class<?> iconnection = find(ICONNECTION, loader, "the Abiquo API");
        List<String> named = servicesEntries(loader);
        if (named.isEmpty()) {
            throw new ArtifactError("no " + SERVICES_FILE + " in " + pluginPath()
                + ": Abiquo finds a backup plugin through that file, which names the plugin class");
        }
        ServiceLoader.Provider<?> provider;
        try {
            provider = ServiceLoader.load(service, loader).stream().findFirst().orElse(null);
        } catch (ServiceConfigurationError | LinkageError ex) {
            throw diagnose(named, service, loader, ex);
        }
        if (provider == null) {
            throw new ArtifactError(SERVICES_FILE + " in " + pluginPath() + " names no class");
        }
        if (named.size() > 1) {
            System.err.println("bpcert bridge: " + SERVICES_FILE + " names " + named
                + "; certifying the first, " + provider.type().getName());
        }
        Class<?> plugin = provider.type();
        try {
            plugin.getMethods();
            plugin.getDeclaredMethods();
        } catch (LinkageError ex) {
            throw linkage(plugin.getName(), ex);
        }
        Class<?> connection = connectionClass(plugin, service, iconnection);
        if (connection.isInterface() || Modifier.isAbstract(connection.getModifiers())) {
            throw new ArtifactError("the connection class " + connection.getName() + " of "
                + plugin.getName() + " is abstract: the platform builds one for every operation");
        }
        try {
            connection.getDeclaredConstructor();
            connection.getMethods();
        } catch (NoSuchMethodException ex) {
            throw new ArtifactError("the connection class " + connection.getName()
                + " needs a no-argument constructor: the platform builds one for every operation");
        } catch (LinkageError ex) {
            throw linkage(connection.getName(), ex);
        }
        Map<String, Method> methods = new LinkedHashMap<>();
        for (Wire.Method wire : Wire.METHODS.values()) {
            Method found = javaMethod(plugin, wire);
            if (found != null) {
                found.setAccessible(true);
                methods.put(wire.wire, found);
            }
        }
        List<String> profiles = new ArrayList<>();
        List<String> gaps = new ArrayList<>();
        for (Map.Entry<String, List<String>> profile : Wire.PROFILES.entrySet()) {
            List<String> absent = new ArrayList<>(profile.getValue());
            absent.removeAll(methods.keySet());
            if (absent.isEmpty()) {
                profiles.add(profile.getKey());
            } else {
                gaps.add(profile.getKey() + " lacks " + String.join(", ", absent));
            }
        }
        if (profiles.isEmpty()) {
            throw new ArtifactError(plugin.getName() + " implements no contract profile ("
                + String.join("; ", gaps) + "): it does not look like a BackupScheduling of"
                + " Abiquo 4.0.4, 4.7 or 6.0");
        }
        if (annotation(plugin, PLUGIN_METADATA) == null) {
            throw new ArtifactError(plugin.getName() + " has no @" + PLUGIN_METADATA
                + "(type, friendlyName, version, supportedVersions)");
        }
        return new PluginHost(loader, provider, connection, profiles, methods);
    }

    private static Class<?> find(final String name, final ClassLoader loader, final String where)
        throws ArtifactError {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException ex) {
            throw new ArtifactError(name + " is not on the classpath: " + where + " is missing");
        }
    }

    private static List<String> servicesEntries(final ClassLoader loader) throws ArtifactError {
        List<String> names = new ArrayList<>();
        try {
            Enumeration<URL> files = loader.getResources(SERVICES_FILE);
            while (files.hasMoreElements()) {
                URL file = files.nextElement();
                try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(file.openStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        int hash = line.indexOf('#');
                        String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
                        if (!name.isEmpty() && !names.contains(name)) {
                            names.add(name);
                        }
                    }
                }
            }
        } catch (IOException ex) {
            throw new ArtifactError("cannot read " + SERVICES_FILE + ": " + ex);
        }
        return names;
    }

    /** The precise reason why ServiceLoader refused the services entries. */
    private static ArtifactError diagnose(final List<String> named, final Class<?> service,
        final ClassLoader loader, final Throwable failure) {
        for (String name : named) {
            Class<?> cls;
            try {
                cls = Class.forName(name, false, loader);
            } catch (ClassNotFoundException ex) {
                return new ArtifactError(SERVICES_FILE + " names " + name
                    + ", which is not in " + pluginPath() + " (a missing class, or a typo in the"
                    + " services file)");
            } catch (LinkageError ex) {
                return linkage(name, ex);
            }
            if (!service.isAssignableFrom(cls)) {
                return new ArtifactError(name + " (named by " + SERVICES_FILE + ") does not"
                    + " implement " + SERVICE);
            }
        }
        return new ArtifactError("ServiceLoader refused " + SERVICES_FILE + ": " + failure);
    }

    static ArtifactError linkage(final String name, final LinkageError error) {
        if (error instanceof UnsupportedClassVersionError) {
            return new ArtifactError(name + " was compiled for a newer Java than this JVM ("
                + ClassScan.javaRelease(ClassScan.supportedMajor()) + "): " + error.getMessage()
                + ". Compile it with --release " + Runtime.version().feature()
                + " or lower, or run bpcert with a newer JDK");
        }
        if (error instanceof NoClassDefFoundError) {
            String missing = String.valueOf(error.getMessage()).replace('/', '.');
            return new ArtifactError("missing dependency class " + missing + " (needed by " + name
                + "): put the jar or directory that has it on the plugin's path, after the plugin"
                + " jar (jar:plugin.jar:dependency.jar)");
        }
        return new ArtifactError(name + " cannot be loaded: " + error);
    }

    /** The plugin's IConnection class: BackupScheduling's type argument, else a parameter. */
    private static Class<?> connectionClass(final Class<?> plugin, final Class<?> service,
        final Class<?> iconnection) throws ArtifactError {
        Class<?> fromType = typeArgument(plugin, service, new LinkedHashSet<>());
        if (fromType != null && iconnection.isAssignableFrom(fromType)
            && fromType != iconnection) {
            return fromType;
        }
        for (Method m : plugin.getMethods()) {
            if (m.getName().equals("removeSchedule") && m.getParameterCount() == 2 && !m.isBridge()) {
                Class<?> candidate = m.getParameterTypes()[0];
                if (iconnection.isAssignableFrom(candidate) && candidate != iconnection) {
                    return candidate;
                }
            }
        }
        throw new ArtifactError(plugin.getName() + " does not name its connection class: declare"
            + " it as the type argument, implements BackupScheduling<MyConnection>, where"
            + " MyConnection implements " + ICONNECTION);
    }

    private static Class<?> typeArgument(final Type type, final Class<?> service,
        final Set<Type> seen) {
        if (type == null || !seen.add(type)) {
            return null;
        }
        Class<?> raw = Beans.raw(type);
        if (type instanceof ParameterizedType && raw == service) {
            Type arg = ((ParameterizedType) type).getActualTypeArguments()[0];
            return arg instanceof Class ? (Class<?>) arg : null;
        }
        List<Type> parents = new ArrayList<>(Arrays.asList(raw.getGenericInterfaces()));
        parents.add(raw.getGenericSuperclass());
        for (Type parent : parents) {
            Class<?> found = typeArgument(parent, service, seen);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static Method javaMethod(final Class<?> plugin, final Wire.Method wire) {
        for (String name : wire.javaNames) {
            for (Method m : plugin.getMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == wire.params.size() + 1
                    && !m.isBridge() && !m.isSynthetic()
                    && !Modifier.isAbstract(m.getModifiers())
                    && !Modifier.isStatic(m.getModifiers())) {
                    return m;
                }
            }
        }
        return null;
    }

    /** The class annotation {@code name} of {@code cls} or, failing that, of a superclass. */
    static Annotation annotation(final Class<?> cls, final String name) {
        for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
            for (Annotation a : c.getDeclaredAnnotations()) {
                if (a.annotationType().getName().equals(name)) {
                    return a;
                }
            }
        }
        return null;
    }

    private static Object member(final Annotation annotation, final String name) {
        try {
            Method m = annotation.annotationType().getMethod(name);
            m.setAccessible(true);
            return m.invoke(annotation);
        } catch (ReflectiveOperationException ex) {
            return null;
        }
    }

    private static String constraint(final Annotation annotation, final String name) {
        Object value = annotation == null ? null : member(annotation, name);
        return value instanceof Enum ? ((Enum<?>) value).name() : "NO_APPLICABLE";
    }

    /** The {@code initialize} answer: the annotations, as docs/protocol.md §6 has it. */
    Map<String, Object> describe() {
        Annotation meta = annotation(pluginClass, PLUGIN_METADATA);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("type", String.valueOf(member(meta, "type")));
        metadata.put("friendly_name", String.valueOf(member(meta, "friendlyName")));
        metadata.put("version", String.valueOf(member(meta, "version")));
        Object versions = member(meta, "supportedVersions");
        metadata.put("supported_versions",
            versions instanceof String[] ? Arrays.asList((String[]) versions) : Collections.emptyList());
        Annotation connection = annotation(pluginClass, CONNECTION_METADATA);
        Map<String, Object> connectionMetadata = new LinkedHashMap<>();
        connectionMetadata.put("endpoint", constraint(connection, "endpoint"));
        connectionMetadata.put("credentials", constraint(connection, "credentials"));
        Set<String> unsupported = new java.util.TreeSet<>();
        for (Map.Entry<String, Method> e : methods.entrySet()) {
            for (Annotation a : e.getValue().getAnnotations()) {
                if (a.annotationType().getName().equals(UNSUPPORTED)) {
                    unsupported.add(e.getKey());
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("metadata", metadata);
        out.put("connection_metadata", connectionMetadata);
        out.put("unsupported_operations", new ArrayList<>(unsupported));
        out.put("example_properties", exampleProperties());
        out.put("protocol_version", "1");
        out.put("profiles", profiles);
        return out;
    }

    String type() {
        return String.valueOf(member(annotation(pluginClass, PLUGIN_METADATA), "type"));
    }

    private Map<String, Object> exampleProperties() {
        try (InputStream stream = pluginClass.getClassLoader().getResourceAsStream(EXAMPLE_PROPERTIES)) {
            if (stream == null) {
                return null;
            }
            Properties properties = new Properties();
            properties.load(new InputStreamReader(stream, StandardCharsets.UTF_8));
            Map<String, Object> out = new TreeMap<>();
            for (String name : properties.stringPropertyNames()) {
                out.put(name, properties.getProperty(name));
            }
            return out;
        } catch (IOException ex) {
            return null;
        }
    }

    /**
     * Everything that would fail later, found now: missing dependency classes, class files
     * too new, and properties that cannot be mapped between the wire and the plugin's classes.
     */
    List<String> deepProblems() {
        List<String> problems = new ArrayList<>(
            ClassScan.problems(loader, Arrays.asList(pluginClass, connectionClass)));
        Set<String> unmapped = new LinkedHashSet<>();
        Set<String> seen = new LinkedHashSet<>();
        Method connect = null;
        for (Method m : connectionClass.getMethods()) {
            if (m.getName().equals("connect") && m.getParameterCount() == 1 && !m.isBridge()) {
                connect = m;
            }
        }
        if (connect == null) {
            problems.add(connectionClass.getName() + " has no connect(ConnectionData) method");
        } else {
            Beans.audit(connect.getGenericParameterTypes()[0], "ConnectionData", true, unmapped, seen);
        }
        for (Map.Entry<String, Method> e : methods.entrySet()) {
            Wire.Method wire = Wire.METHODS.get(e.getKey());
            Type[] params = e.getValue().getGenericParameterTypes();
            for (int i = 0; i < wire.params.size(); i++) {
                if (wire.paramModels.get(i) != null) {
                    Beans.audit(params[i + 1], wire.paramModels.get(i), true, unmapped, seen);
                }
            }
            if (wire.resultModel != null) {
                Beans.audit(e.getValue().getGenericReturnType(), wire.resultModel, false, unmapped,
                    seen);
            }
        }
        if (!unmapped.isEmpty()) {
            StringBuilder text = new StringBuilder("these properties cannot be mapped to the wire"
                + " models of docs/protocol.md (bpcert maps a wire field such as size_bytes to"
                + " the JavaBeans property sizeBytes):");
            for (String p : unmapped) {
                text.append("\n  - ").append(p);
            }
            problems.add(text.toString());
        }
        return problems;
    }
}
