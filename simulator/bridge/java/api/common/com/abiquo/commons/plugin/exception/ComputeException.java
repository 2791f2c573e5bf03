// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.commons.plugin.exception;

/** A connection to the backup manager failed (unreachable, refused credentials). */
public class ComputeException extends Exception {
    private static final long serialVersionUID = 1L;

    public ComputeException(final String message) {
        super(message);
    }

    public ComputeException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
