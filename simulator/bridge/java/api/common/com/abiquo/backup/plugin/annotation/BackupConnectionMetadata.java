// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.plugin.annotation;

import com.abiquo.commons.plugin.enumerator.FieldConstraint;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Whether the backup manager's endpoint and credentials are mandatory, optional or unused. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface BackupConnectionMetadata {
    FieldConstraint endpoint() default FieldConstraint.NO_APPLICABLE;

    FieldConstraint credentials() default FieldConstraint.NO_APPLICABLE;
}
