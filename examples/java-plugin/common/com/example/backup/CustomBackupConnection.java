package com.example.backup;

import com.abiquo.commons.model.ConnectionData;
import com.abiquo.commons.plugin.IConnection;
import com.abiquo.commons.plugin.exception.ComputeException;
import org.bpcert.backend.BackendClient;
import org.bpcert.backend.BackendException;

/**
 * A session with the backup manager. The platform builds one for every operation, connects
 * it, runs the operation and disconnects it, also after a failure. It holds the backend
 * session and nothing else.
 */
public class CustomBackupConnection implements IConnection {
    private String session;

    /**
     * Opens a session at the endpoint with the credentials, both MANDATORY. The message does
     * not repeat the endpoint: in simulation it differs between runs.
     */
    @Override
    public void connect(final ConnectionData data) throws ComputeException {
        if (data.getEndpoint() == null || data.getEndpoint().isEmpty()) {
            throw new ComputeException("the backup manager has no endpoint; it is mandatory");
        }
        if (data.getUser() == null || data.getPassword() == null) {
            throw new ComputeException("the backup manager has no credentials; they are mandatory");
        }
        if (session != null) { // a reused connection: do not leak the old session
            disconnect();
        }
        try {
            session = BackendClient.openSession(data.getEndpoint(), data.getUser(), data.getPassword());
        } catch (BackendException e) {
            throw new ComputeException("cannot open a session with the backup manager: "
                + e.getMessage(), e);
        }
    }

    /** Closes the session. Idempotent, and never fails, so a session never leaks. */
    @Override
    public void disconnect() {
        String closing = session;
        session = null;
        if (closing != null) {
            BackendClient.closeSession(closing);
        }
    }

    String session() {
        return session;
    }
}
