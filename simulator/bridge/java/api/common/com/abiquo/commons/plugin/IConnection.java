// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.commons.plugin;

import com.abiquo.commons.model.ConnectionData;
import com.abiquo.commons.plugin.exception.ComputeException;

/**
 * A session with the backup manager. The platform builds one per operation, connects it,
 * runs the operation, then disconnects it, also after a failure.
 */
public interface IConnection {
    void connect(ConnectionData connectionData) throws ComputeException;

    void disconnect();
}
