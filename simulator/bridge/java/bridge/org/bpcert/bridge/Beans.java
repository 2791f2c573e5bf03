package org.bpcert.bridge;

import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON to Java objects and back by JavaBeans introspection, driven by the wire models of
 * {@link Wire}: a wire field {@code size_bytes} is the property {@code sizeBytes}, read with
 * {@code getSizeBytes()} (or {@code isX()} for a boolean) and written with {@code
 * setSizeBytes(..)}. Enums go by name; instants are {@link ZonedDateTime} (also {@link
 * OffsetDateTime}, {@link Instant}, {@link Date}); {@link Optional} and collections are
 * unwrapped by their type arguments. So a vendor's own Abiquo model classes work as well as
 * bpcert's, as long as their properties carry these names.
 */
public final class Beans {
    private static final Map<Class<?>, Map<String, Method>> SETTERS = new ConcurrentHashMap<>();
    private static final Map<Class<?>, Map<String, Method>> GETTERS = new ConcurrentHashMap<>();
    private static final DateTimeFormatter INSTANT = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    private Beans() {
    }

    /** Forgets the introspected classes, so that an ended instance's loader can be freed. */
    static void forget() {
        SETTERS.clear();
        GETTERS.clear();
    }

    /** A value the bridge could not map; the message names the path and what came. */
    public static final class MappingError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MappingError(final String message) {
            super(message);
        }
    }

    // ------------------------------------------------------------------ types

    static Class<?> raw(final Type type) {
        if (type instanceof Class) {
            return (Class<?>) type;
        }
        if (type instanceof ParameterizedType) {
            return raw(((ParameterizedType) type).getRawType());
        }
        if (type instanceof WildcardType) {
            return raw(((WildcardType) type).getUpperBounds()[0]);
        }
        if (type instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) type).getBounds();
            return bounds.length > 0 ? raw(bounds[0]) : Object.class;
        }
        if (type instanceof GenericArrayType) {
            return Object[].class;
        }
        return Object.class;
    }

    static Type argument(final Type type, final int index) {
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            if (index < args.length) {
                return args[index];
            }
        }
        return Object.class;
    }

    /** The element type of a collection or an Optional, else the type itself. */
    static Type element(final Type type) {
        Class<?> cls = raw(type);
        if (Collection.class.isAssignableFrom(cls) || Optional.class == cls) {
            return element(argument(type, 0));
        }
        if (Map.class.isAssignableFrom(cls)) {
            return element(argument(type, 1));
        }
        return type;
    }

    private static String capitalized(final String property) {
        return Character.toUpperCase(property.charAt(0)) + property.substring(1);
    }

    static Method setter(final Class<?> cls, final String property) {
        Map<String, Method> cached = SETTERS.computeIfAbsent(cls, c -> new ConcurrentHashMap<>());
        Method found = cached.get(property);
        if (found == null && !cached.containsKey(property)) {
            String name = "set" + capitalized(property);
            for (Method m : cls.getMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 1
                    && !Modifier.isStatic(m.getModifiers())) {
                    found = m;
                    break;
                }
            }
            if (found != null) {
                cached.put(property, found);
            }
        }
        return found;
    }

    static Method getter(final Class<?> cls, final String property) {
        Map<String, Method> cached = GETTERS.computeIfAbsent(cls, c -> new ConcurrentHashMap<>());
        Method found = cached.get(property);
        if (found == null) {
            for (String prefix : new String[] {"get", "is"}) {
                try {
                    Method m = cls.getMethod(prefix + capitalized(property));
                    if (!Modifier.isStatic(m.getModifiers()) && m.getReturnType() != void.class) {
                        found = m;
                        break;
                    }
                } catch (NoSuchMethodException ex) {
                    // try the next prefix
                }
            }
            if (found != null) {
                cached.put(property, found);
            }
        }
        return found;
    }

    // ------------------------------------------------------------- JSON -> Java

    /** The Java value of {@code json} for a parameter or property of type {@code type}. */
    public static Object fromJson(final Object json, final Type type, final String model,
        final String path) {
        Class<?> cls = raw(type);
        if (Optional.class == cls) {
            return Optional.ofNullable(fromJson(json, argument(type, 0), model, path));
        }
        if (json == null) {
            if (cls == boolean.class) {
                return false;
            }
            if (cls.isPrimitive()) {
                throw new MappingError(path + ": null for a " + cls.getName());
            }
            return null;
        }
        if (cls == Object.class) {
            return json;
        }
        if (cls == String.class) {
            return expect(json, String.class, path);
        }
        if (cls == boolean.class || cls == Boolean.class) {
            return expect(json, Boolean.class, path);
        }
        if (cls == int.class || cls == Integer.class) {
            return expect(json, Long.class, path).intValue();
        }
        if (cls == long.class || cls == Long.class) {
            return expect(json, Long.class, path);
        }
        if (cls.isEnum()) {
            String name = expect(json, String.class, path);
            for (Object constant : cls.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            throw new MappingError(path + ": " + cls.getName() + " has no constant " + name);
        }
        if (cls == ZonedDateTime.class || cls == OffsetDateTime.class || cls == Instant.class
            || cls == Date.class) {
            OffsetDateTime instant = OffsetDateTime.parse(expect(json, String.class, path));
            if (cls == ZonedDateTime.class) {
                return instant.toZonedDateTime();
            }
            if (cls == OffsetDateTime.class) {
                return instant;
            }
            return cls == Instant.class ? instant.toInstant() : Date.from(instant.toInstant());
        }
        if (Collection.class.isAssignableFrom(cls)) {
            List<?> items = expect(json, List.class, path);
            Collection<Object> out = newCollection(cls, path);
            Type item = argument(type, 0);
            for (int i = 0; i < items.size(); i++) {
                out.add(fromJson(items.get(i), item, model, path + "[" + i + "]"));
            }
            return out;
        }
        if (Map.class.isAssignableFrom(cls)) {
            Map<?, ?> members = expect(json, Map.class, path);
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : members.entrySet()) {
                out.put((String) e.getKey(),
                    fromJson(e.getValue(), argument(type, 1), model, path + "." + e.getKey()));
            }
            return out;
        }
        if (model == null) {
            throw new MappingError(path + ": cannot build a " + cls.getName() + " from JSON");
        }
        return bean(expect(json, Map.class, path), cls, model, path);
    }

    private static Object bean(final Map<?, ?> json, final Class<?> cls, final String model,
        final String path) {
        Object out;
        try {
            java.lang.reflect.Constructor<?> constructor = cls.getDeclaredConstructor();
            constructor.setAccessible(true);
            out = constructor.newInstance();
        } catch (ReflectiveOperationException | RuntimeException ex) {
            throw new MappingError(path + ": cannot build a " + cls.getName()
                + " with a no-argument constructor (" + ex + ")");
        }
        for (Wire.Field field : Wire.MODELS.get(model)) {
            if (!json.containsKey(field.name)) {
                continue;
            }
            String property = Wire.camel(field.name);
            Method set = setter(cls, property);
            if (set == null) {
                throw new MappingError(path + ": " + cls.getName() + " has no setter for "
                    + property);
            }
            Object value = fromJson(json.get(field.name), set.getGenericParameterTypes()[0],
                field.model, path + "." + field.name);
            try {
                set.invoke(out, value);
            } catch (ReflectiveOperationException ex) {
                throw new MappingError(path + ": " + set + " failed: " + ex.getCause());
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Collection<Object> newCollection(final Class<?> cls, final String path) {
        if (!cls.isInterface() && !Modifier.isAbstract(cls.getModifiers())) {
            try {
                return (Collection<Object>) cls.getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException ex) {
                throw new MappingError(path + ": cannot build a " + cls.getName());
            }
        }
        if (SortedSet.class.isAssignableFrom(cls)) {
            return new TreeSet<>();
        }
        if (Set.class.isAssignableFrom(cls)) {
            return new LinkedHashSet<>();
        }
        return new ArrayList<>();
    }

    @SuppressWarnings("unchecked")
    private static <T> T expect(final Object json, final Class<T> cls, final String path) {
        if (!cls.isInstance(json)) {
            throw new MappingError(path + ": expected a JSON " + cls.getSimpleName() + ", got "
                + Json.write(json));
        }
        return (T) json;
    }

    // ------------------------------------------------------------- Java -> JSON

    /** The JSON of a value the plugin returned; {@code model} names the wire model of beans. */
    public static Object toJson(final Object value, final String model, final String path) {
        if (value == null || value instanceof String || value instanceof Boolean
            || value instanceof Long || value instanceof BigInteger || value instanceof BigDecimal) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof Enum) {
            return ((Enum<?>) value).name();
        }
        if (value instanceof ZonedDateTime) {
            return INSTANT.format(((ZonedDateTime) value).toOffsetDateTime()
                .truncatedTo(ChronoUnit.MICROS));
        }
        if (value instanceof OffsetDateTime) {
            return INSTANT.format(((OffsetDateTime) value).truncatedTo(ChronoUnit.MICROS));
        }
        if (value instanceof Instant) {
            return toJson(((Instant) value).atOffset(ZoneOffset.UTC), model, path);
        }
        if (value instanceof Date) {
            return toJson(((Date) value).toInstant(), model, path);
        }
        if (value instanceof Optional) {
            return toJson(((Optional<?>) value).orElse(null), model, path);
        }
        if (value instanceof Collection) {
            Collection<?> items = (Collection<?>) value;
            if (value instanceof Set && !(value instanceof SortedSet)
                && !(value instanceof LinkedHashSet) && allStrings(items)) {
                items = new TreeSet<>(items); // a HashSet's order is no order at all
            }
            List<Object> out = new ArrayList<>();
            int i = 0;
            for (Object item : items) {
                out.add(toJson(item, model, path + "[" + i++ + "]"));
            }
            return out;
        }
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                out.put(String.valueOf(e.getKey()),
                    toJson(e.getValue(), model, path + "." + e.getKey()));
            }
            return out;
        }
        if (model == null) {
            throw new MappingError(path + ": cannot write a " + value.getClass().getName()
                + " as JSON");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Wire.Field field : Wire.MODELS.get(model)) {
            String property = Wire.camel(field.name);
            Method get = getter(value.getClass(), property);
            if (get == null) {
                throw new MappingError(path + ": " + value.getClass().getName()
                    + " has no getter for " + property);
            }
            Object item;
            try {
                get.setAccessible(true);
                item = get.invoke(value);
            } catch (ReflectiveOperationException ex) {
                throw new MappingError(path + ": " + get + " failed: " + ex.getCause());
            }
            out.put(field.name, toJson(item, field.model, path + "." + field.name));
        }
        return out;
    }

    private static boolean allStrings(final Collection<?> items) {
        for (Object item : items) {
            if (!(item instanceof String)) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ audit

    /**
     * Adds to {@code problems} every property of the Java type (and the types it nests)
     * that the wire model {@code model} cannot be mapped to: a missing setter when the
     * harness sends the model ({@code incoming}), a missing getter when the plugin returns
     * it, and enum constants that the two sides name differently.
     */
    static void audit(final Type type, final String model, final boolean incoming,
        final Set<String> problems, final Set<String> seen) {
        Class<?> cls = raw(element(type));
        if (!seen.add(cls.getName() + "/" + model + "/" + incoming)) {
            return;
        }
        if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
            problems.add(cls.getName() + " (wire " + model + "): an interface or abstract class,"
                + " which the bridge cannot build");
            return;
        }
        if (incoming) {
            try {
                cls.getDeclaredConstructor();
            } catch (NoSuchMethodException ex) {
                problems.add(cls.getName() + " (wire " + model
                    + "): no no-argument constructor");
            }
        }
        for (Wire.Field field : Wire.MODELS.get(model)) {
            String property = Wire.camel(field.name);
            Method accessor = incoming ? setter(cls, property) : getter(cls, property);
            if (accessor == null) {
                problems.add(cls.getName() + "." + property + " (wire " + model + "."
                    + field.name + "): no " + (incoming ? "setter set" : "getter get")
                    + capitalized(property));
                continue;
            }
            Type propertyType = incoming ? accessor.getGenericParameterTypes()[0]
                : accessor.getGenericReturnType();
            if (field.model != null) {
                audit(propertyType, field.model, incoming, problems, seen);
            } else if (field.enumName != null) {
                Class<?> enumType = raw(element(propertyType));
                if (!enumType.isEnum()) {
                    continue; // a String property takes the name as it is
                }
                List<String> wire = Wire.ENUMS.get(field.enumName);
                List<String> java = new ArrayList<>();
                for (Object constant : enumType.getEnumConstants()) {
                    java.add(((Enum<?>) constant).name());
                }
                List<String> missing = new ArrayList<>(incoming ? wire : java);
                missing.removeAll(incoming ? java : wire);
                if (!missing.isEmpty()) {
                    problems.add(cls.getName() + "." + property + " (wire " + model + "."
                        + field.name + "): " + enumType.getName() + (incoming ? " lacks " : " has ")
                        + String.join(", ", missing) + (incoming ? "" : ", unknown to the wire"));
                }
            }
        }
    }
}
