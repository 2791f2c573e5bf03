// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.hypervisor.plugin;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Marks a plugin method the plugin does not support: the platform never calls it. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface UnsupportedOperation {
}
