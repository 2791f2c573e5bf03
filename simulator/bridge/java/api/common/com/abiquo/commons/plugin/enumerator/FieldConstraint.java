// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.commons.plugin.enumerator;

/** How a connection field is used; OPTIONAL is modelled. */
public enum FieldConstraint {
    MANDATORY, OPTIONAL, NO_APPLICABLE
}
