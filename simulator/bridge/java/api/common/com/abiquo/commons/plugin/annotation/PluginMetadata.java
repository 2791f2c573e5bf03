// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.commons.plugin.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The plugin's identity. {@code supportedVersions} are versions of the backup technology
 * (the archetype's example is {"1.0", "1.5"}), not Abiquo releases.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface PluginMetadata {
    String type();

    String friendlyName();

    String version();

    String[] supportedVersions() default {};
}
