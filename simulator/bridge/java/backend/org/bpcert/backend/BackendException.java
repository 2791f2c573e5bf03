package org.bpcert.backend;

/**
 * The fake backup system refused a request. {@link #kind()} says why (docs/protocol.md §8):
 * {@code unreachable}, {@code auth}, {@code unavailable}, {@code not_found}, {@code
 * not_restorable} or {@code invalid}.
 */
public class BackendException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String kind;

    public BackendException(final String kind, final String message) {
        super(message);
        this.kind = kind;
    }

    public String kind() {
        return kind;
    }
}
