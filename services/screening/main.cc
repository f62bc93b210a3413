// kosapo-screening: see services/screening/screening_server.h and README.md.
#include "services/screening/screening_server.h"

int main(int argc, char** argv) {
  return kosapo::server::ServiceMain(
      argc, argv, kosapo::screening::Descriptor(),
      kosapo::screening::Migrations(), kosapo::screening::Setup);
}
